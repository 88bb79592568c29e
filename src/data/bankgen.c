// bankgen.c — the demo bank's customer table (see bankgen.h). This block documents the data.
//
// One row is one retail customer of a US bank, as of 2025-06-30 (a fixed date, so output never
// depends on the clock). Money is whole US dollars written "$85,000" (always with '$', thousands
// commas, so such fields are quoted: "\"$85,000\""); percentages are whole numbers written
// "23%"; dates are ISO "2015-03-15"; booleans "Yes"/"No"; multi-valued columns list items
// separated by "; " in a fixed order ("Checking; Savings; Credit Card"), empty for no item.
// Lines end in '\n'; quoting follows RFC 4180 (a field holding ',' or '"' is quoted, '"' doubled).
//
//  #  column               type       values and how they are drawn
//  1  customer_id          text       CUST-000001 ... (row i+1, zero-padded to >= 6 digits; unique)
//  2  age                  integer    18..95; US adult age pyramid (bands 18-24 11%, 25-34 17%,
//                                     35-44 / 45-54 / 55-64 17% each, 65-74 13%, 75-84 6%, 85+ 2%)
//  3  gender               category   Female 51% / Male 49%
//  4  marital_status       category   Single, Married, Divorced, Widowed; by age band (Single 88%
//                                     under 25, Married ~60% from 35, Widowed 32% from 70)
//  5  dependents           integer    children aged 0..22: a parent (by marital status) has 1-4
//                                     children born from age 22-36 (later with a degree), 1-4 years
//                                     apart, so young parents have babies and 45-60s have students
//  6  children_in_college  integer    children aged 18..22 in college (more likely with parental
//                                     education and income); <= dependents
//  7  education            category   High School, Some College, Bachelor's, Master's, Doctorate;
//                                     none above Some College under 22, no Doctorate under 25
//  8  occupation           category   ~25 careers drawn by education (Physician, Attorney need a
//                                     Doctorate or Master's; Retail Associate mostly High School),
//                                     each with a mid-career pay level; "Student" and "Homemaker"
//                                     for those statuses; retirees and the unemployed keep their
//                                     last occupation
//  9  employment_status    category   Employed Full-Time, Employed Part-Time, Self-Employed,
//                                     Unemployed, Student, Retired, Homemaker (married only); by
//                                     age (Student mostly < 23, Retired 42% at 62-66, 93% at 75+)
// 10  annual_income        currency   personal income: occupation pay x career curve (55% at 22,
//                                     peak at 50-55) x city cost level x lognormal(0.35) (0.6
//                                     self-employed), part-time x0.45, retirees a pension of ~45%
//                                     + $18k, students $2k-$22k, homemakers $0-$9k; rounded to
//                                     $1,000
// 11  credit_score         integer    300..850: 700 + credit history (+1.1/yr after 25) + income
//                                     (+18 per doubling over $65k) - 2.1 per utilisation point over
//                                     25% + N(0, 40); so strongly negative with credit_utilization
// 12  segment              category   Mass, Mass Affluent, Affluent, Private: by assets held with
//                                     the bank (checking+savings+investment+retirement: < $50k,
//                                     < $250k, < $1M, >= $1M) raised by income (>= $150k at least
//                                     Mass Affluent, >= $250k Affluent, >= $500k Private)
// 13  risk_profile         category   Conservative .. Aggressive (5 steps): falls with age, rises
//                                     with assets and high income, N(0, 0.9) noise
// 14  region               category   Northeast, Southeast, Midwest, Southwest, West (from city)
// 15  city                 category   27 US metros weighted by size; each has a cost level that
//                                     scales income and home prices (San Francisco 1.4, ...)
// 16  customer_since       date       account opening: up to min(age - 18, 40) years before
//                                     2025-06-30, skewed towards recent
// 17  tenure_years         integer    whole years since customer_since
// 18  housing_status       category   Own Outright, Own with Mortgage, Rent, Living with Family:
//                                     ownership rises with age and household income; the mortgage
//                                     is paid off more often from 65
// 19  checking_balance     currency   household income / 12 x U(0.3, 2.5) for the 96% with checking
// 20  savings_balance      currency   share of the household's financial assets (which grow with
// 21  investment_balance   currency   income x working years, lognormal(1.0)) held with us in
// 22  retirement_balance   currency   savings / brokerage / IRA; brokerage and IRA more likely
//                                     with wealth and age; $0 when the product is not held
// 23  mortgage_balance     currency   for 70% of "Own with Mortgage" (the rest bank elsewhere):
//                                     80% of a home of 2.8-4.8x household income x cost level,
//                                     amortised 30 years at 6% since purchase
// 24  auto_loan_balance    currency   28% of working/retired adults 21-75, $6k-$48k x income
// 25  student_loan_balance currency   graduates under 50 (more with higher degrees; Physicians
//                                     ~$200k), paid down over 20 years after graduation
// 26  credit_card_tier     category   None, Standard, Gold, Platinum, Reserve: Platinum needs
//                                     income >= $120k and score >= 740, Gold $60k and 680, Reserve
//                                     is offered to Private customers with score >= 720
// 27  credit_utilization   percent    0..100: revolving balance / limits across all lenders; lower
//                                     with income and age; 18% use under 10%
// 28  debt_to_income       percent    0..95: monthly mortgage (anywhere), auto, student and card
//                                     payments x 12 / household income (at least $12k)
// 29  equity_allocation    percent    target equity share of the customer's model portfolio by
//                                     risk profile (20/40/60/75/90% +- 5)
// 30  products_held        list       Checking; Savings; Certificate of Deposit; Brokerage Account;
//                                     IRA; 529 Plan; Credit Card; Mortgage; HELOC; Auto Loan;
//                                     Student Loan; Personal Loan; Wealth Advisory — consistent
//                                     with the balances (Mortgage iff mortgage_balance > $0, ...);
//                                     CDs more often from 60, 529 Plans for parents of minors,
//                                     Wealth Advisory for Affluent (35%) and Private (70%)
// 31  digital_user         bool       Yes/No: logged in within the last 30 days; 93% under 35 down
//                                     to 30% from 75
// 32  monthly_logins       integer    logins in the last 30 days (0 for non-digital), more when
//                                     younger
// 33  preferred_channel    category   Mobile App, Online Banking (digital users; Mobile App more
//                                     when younger), Branch, Phone (the others)
// 34  interests            list       at least one of Retirement Planning, Education Savings, Home
//                                     Buying, Travel, Wealth Management, Investing, Tax Planning,
//                                     Estate Planning, Small Business, Debt Consolidation,
//                                     Budgeting, Auto Purchase, Insurance, Charitable Giving; by
//                                     life stage: Retirement Planning 6% under 30, 72% at 55-67
//                                     still working; Education Savings for parents of minors and
//                                     of students; Home Buying for renters 24-45; Wealth
//                                     Management by segment; Tax Planning by income; Small
//                                     Business for the self-employed; Debt Consolidation with high
//                                     utilisation or debt-to-income
// 35  life_events          list       events of the last 12 months (usually none): New Baby, Child
//                                     Starting College, Marriage, Divorce, Home Purchase,
//                                     Graduation, New Job, Promotion, Retirement, Relocation,
//                                     Inheritance; each follows from the row (a child aged 0, a
//                                     mortgage taken this year, a retiree of 60-67 ...)
//
// Randomness: xoshiro256** seeded per row with splitmix64(seed, row), so row i depends only on
// (seed, i) and the draws inside a row happen in one fixed order (change the order and the data
// changes: the column docs above and the statistical tests in tests/unit/test_bankgen.c must
// then be rechecked). Formatting is hand-written (no printf) because 10 M rows are ~4.5 GB.
#include "bankgen.h"

#include <math.h>
#include <string.h>

#include "datex.h"
#include "limits.h"
#include "mem.h"
#include "prng.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

// ---------------------------------------------------------------------------------------------
// Columns

static const char *const k_columns[] = {
    "customer_id",
    "age",
    "gender",
    "marital_status",
    "dependents",
    "children_in_college",
    "education",
    "occupation",
    "employment_status",
    "annual_income",
    "credit_score",
    "segment",
    "risk_profile",
    "region",
    "city",
    "customer_since",
    "tenure_years",
    "housing_status",
    "checking_balance",
    "savings_balance",
    "investment_balance",
    "retirement_balance",
    "mortgage_balance",
    "auto_loan_balance",
    "student_loan_balance",
    "credit_card_tier",
    "credit_utilization",
    "debt_to_income",
    "equity_allocation",
    "products_held",
    "digital_user",
    "monthly_logins",
    "preferred_channel",
    "interests",
    "life_events",
};

size_t bankgen_n_columns(void)
{
    return ARRAY_LEN(k_columns);
}

const char *bankgen_column_name(size_t i)
{
    return i < ARRAY_LEN(k_columns) ? k_columns[i] : NULL;
}

// ---------------------------------------------------------------------------------------------
// Value tables

enum gender { G_FEMALE, G_MALE };
static const char *const k_gender[] = {"Female", "Male"};

enum marital { M_SINGLE, M_MARRIED, M_DIVORCED, M_WIDOWED };
static const char *const k_marital[] = {"Single", "Married", "Divorced", "Widowed"};

enum education { E_HS, E_SOME, E_BA, E_MA, E_PHD, E_COUNT };
static const char *const k_education[] = {"High School", "Some College", "Bachelor's", "Master's",
                                          "Doctorate"};

enum employment { J_FULL, J_PART, J_SELF, J_UNEMP, J_STUDENT, J_RETIRED, J_HOME, J_COUNT };
static const char *const k_employment[] = {
    "Employed Full-Time", "Employed Part-Time", "Self-Employed", "Unemployed", "Student", "Retired",
    "Homemaker"};

enum segment { S_MASS, S_MASS_AFFLUENT, S_AFFLUENT, S_PRIVATE };
static const char *const k_segment[] = {"Mass", "Mass Affluent", "Affluent", "Private"};

static const char *const k_risk[] = {"Conservative", "Moderately Conservative", "Moderate",
                                     "Moderately Aggressive", "Aggressive"};
static const int k_risk_equity[] = {20, 40, 60, 75, 90};

enum housing { H_OWN, H_MORTGAGE, H_RENT, H_FAMILY };
static const char *const k_housing[] = {"Own Outright", "Own with Mortgage", "Rent",
                                        "Living with Family"};

enum card { C_NONE, C_STANDARD, C_GOLD, C_PLATINUM, C_RESERVE };
static const char *const k_card[] = {"None", "Standard", "Gold", "Platinum", "Reserve"};

enum channel { CH_MOBILE, CH_ONLINE, CH_BRANCH, CH_PHONE };
static const char *const k_channel[] = {"Mobile App", "Online Banking", "Branch", "Phone"};

static const char *const k_region[] = {"Northeast", "Southeast", "Midwest", "Southwest", "West"};

struct city {
    const char *name;
    int region; // index into k_region
    double weight;
    double cost; // scales income and home prices
};

static const struct city k_cities[] = {
    {"New York", 0, 10, 1.25},     {"Boston", 0, 4, 1.20},      {"Philadelphia", 0, 4, 1.00},
    {"Pittsburgh", 0, 2, 0.90},    {"Hartford", 0, 1, 1.05},    {"Atlanta", 1, 5, 1.00},
    {"Miami", 1, 5, 0.95},         {"Charlotte", 1, 3, 1.00},   {"Orlando", 1, 3, 0.90},
    {"Nashville", 1, 3, 0.95},     {"Chicago", 2, 7, 1.05},     {"Detroit", 2, 3, 0.90},
    {"Minneapolis", 2, 3, 1.00},   {"Columbus", 2, 3, 0.92},    {"St. Louis", 2, 2, 0.90},
    {"Dallas", 3, 5, 1.00},        {"Houston", 3, 5, 1.00},     {"Phoenix", 3, 4, 0.95},
    {"Austin", 3, 3, 1.10},        {"Albuquerque", 3, 1, 0.85}, {"Los Angeles", 4, 8, 1.15},
    {"San Francisco", 4, 4, 1.40}, {"Seattle", 4, 4, 1.25},     {"Denver", 4, 3, 1.05},
    {"San Diego", 4, 3, 1.10},     {"Portland", 4, 2, 1.00},    {"Salt Lake City", 4, 1, 0.95},
};

struct occupation {
    const char *name;
    double pay;        // mid-career full-time income, dollars
    int self_employed; // 0: employees only, 1: either, 2: self-employed only
    double w[E_COUNT]; // draw weight by education
};

// Careers; "Student" and "Homemaker" are written instead for those statuses.
static const struct occupation k_occupations[] = {
    {"Physician", 245000, 1, {0, 0, 0, 0, 18}},
    {"Attorney", 165000, 1, {0, 0, 0, 4, 14}},
    {"Pharmacist", 128000, 0, {0, 0, 0, 1, 8}},
    {"Professor", 105000, 0, {0, 0, 0, 2, 16}},
    {"Research Scientist", 120000, 0, {0, 0, 1, 4, 14}},
    {"Senior Executive", 215000, 0, {0, 0.2, 2, 5, 6}},
    {"Software Engineer", 135000, 1, {0, 1, 12, 9, 6}},
    {"Engineer", 102000, 1, {0, 1, 9, 8, 6}},
    {"Financial Analyst", 92000, 0, {0, 0, 7, 6, 2}},
    {"Accountant", 80000, 1, {0, 1, 8, 5, 1}},
    {"Manager", 100000, 0, {2, 5, 10, 10, 3}},
    {"Consultant", 112000, 1, {0, 1, 4, 8, 6}},
    {"Business Owner", 105000, 2, {4, 5, 5, 5, 2}},
    {"Teacher", 62000, 0, {0, 1, 8, 10, 4}},
    {"Registered Nurse", 82000, 0, {0, 8, 7, 4, 1}},
    {"Police Officer", 68000, 0, {4, 5, 2, 0, 0}},
    {"Sales Representative", 64000, 1, {8, 8, 6, 2, 0}},
    {"Real Estate Agent", 70000, 1, {4, 4, 3, 1, 0}},
    {"Graphic Designer", 56000, 1, {0, 3, 4, 1, 0}},
    {"Electrician", 63000, 1, {9, 5, 0, 0, 0}},
    {"Mechanic", 52000, 1, {8, 4, 0, 0, 0}},
    {"Truck Driver", 54000, 1, {8, 3, 0, 0, 0}},
    {"Administrative Assistant", 43000, 0, {10, 8, 3, 0, 0}},
    {"Customer Service Representative", 38000, 0, {9, 6, 2, 0, 0}},
    {"Retail Associate", 32000, 0, {12, 6, 2, 0, 0}},
};
// Indices into k_occupations used by the rules below (keep in step with the table).
#define OCC_BUSINESS_OWNER 12
#define OCC_PHYSICIAN 0

enum product {
    P_CHECKING,
    P_SAVINGS,
    P_CD,
    P_BROKERAGE,
    P_IRA,
    P_529,
    P_CARD,
    P_MORTGAGE,
    P_HELOC,
    P_AUTO,
    P_STUDENT,
    P_PERSONAL,
    P_ADVISORY,
    P_COUNT
};
static const char *const k_products[] = {
    "Checking",          "Savings",      "Certificate of Deposit",
    "Brokerage Account", "IRA",          "529 Plan",
    "Credit Card",       "Mortgage",     "HELOC",
    "Auto Loan",         "Student Loan", "Personal Loan",
    "Wealth Advisory",
};

enum interest {
    I_RETIREMENT,
    I_EDUCATION,
    I_HOME,
    I_TRAVEL,
    I_WEALTH,
    I_INVESTING,
    I_TAX,
    I_ESTATE,
    I_BUSINESS,
    I_DEBT,
    I_BUDGET,
    I_AUTO,
    I_INSURANCE,
    I_CHARITY,
    I_COUNT
};
static const char *const k_interests[] = {
    "Retirement Planning", "Education Savings",  "Home Buying",  "Travel",
    "Wealth Management",   "Investing",          "Tax Planning", "Estate Planning",
    "Small Business",      "Debt Consolidation", "Budgeting",    "Auto Purchase",
    "Insurance",           "Charitable Giving",
};

enum event {
    V_BABY,
    V_COLLEGE,
    V_MARRIAGE,
    V_DIVORCE,
    V_HOME,
    V_GRADUATION,
    V_JOB,
    V_PROMOTION,
    V_RETIREMENT,
    V_RELOCATION,
    V_INHERITANCE,
    V_COUNT
};
static const char *const k_events[] = {
    "New Baby",      "Child Starting College",
    "Marriage",      "Divorce",
    "Home Purchase", "Graduation",
    "New Job",       "Promotion",
    "Retirement",    "Relocation",
    "Inheritance",
};

// The "as of" date of the book: 2025-06-30.
#define AS_OF_Y 2025
#define AS_OF_M 6
#define AS_OF_D 30

// ---------------------------------------------------------------------------------------------
// PRNG: splitmix64 to seed, xoshiro256** to draw (base/prng.h)
static void rng_seed(struct prng *r, uint64_t seed, uint64_t row)
{
    uint64_t x = seed ^ (row * 0xD1B54A32D192ED03ull + 0x8CB92BA72F3D8DD7ull);
    x = prng_splitmix64(&x) ^ seed; // one mixing round so nearby (seed, row) pairs decorrelate
    for (int k = 0; k < 4; k++) {
        r->s[k] = prng_splitmix64(&x);
    }
}

// Uniform in [0, 1).
static double unif(struct prng *r)
{
    return prng_unit(prng_next(r));
}

static double unif_range(struct prng *r, double lo, double hi)
{
    return lo + (hi - lo) * unif(r);
}

// Uniform integer in [lo, hi].
static int unif_int(struct prng *r, int lo, int hi)
{
    uint64_t span = (uint64_t)(hi - lo) + 1;
    return lo + (int)(((prng_next(r) >> 32) * span) >> 32);
}

static bool chance(struct prng *r, double p)
{
    return unif(r) < p;
}

// Lognormal with median 1.
static double lognorm(struct prng *r, double sigma)
{
    return exp(sigma * prng_gauss(r));
}

static double clampd(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

static int64_t round_to(double x, double unit)
{
    return x <= 0 ? 0 : (int64_t)(floor(x / unit + 0.5) * unit);
}

// ---------------------------------------------------------------------------------------------
// One customer

struct customer {
    int age, gender, marital, dependents, in_college, education, occupation, employment;
    int64_t income;
    int credit_score, segment, risk, city;
    int since_y, since_m, since_d, tenure_years, housing;
    int64_t checking, savings, investment, retirement, mortgage, auto_loan, student_loan;
    int card, utilization, dti, equity;
    unsigned products, interests, events; // bit sets over enum product / interest / event
    int digital, logins, channel;
};

// Career income multiplier by age: 55% at 22, 100% at 45, peak 105% at 55.
static double career_curve(int age)
{
    if (age < 22) {
        return 0.45;
    }
    if (age < 45) {
        return 0.55 + 0.45 * (age - 22) / 23.0;
    }
    if (age < 55) {
        return 1.0 + 0.05 * (age - 45) / 10.0;
    }
    return 1.05 - 0.10 * clampd((age - 55) / 15.0, 0, 1);
}

static int draw_age(struct prng *r)
{
    static const int lo[] = {18, 25, 35, 45, 55, 65, 75, 85};
    static const int hi[] = {24, 34, 44, 54, 64, 74, 84, 95};
    static const double w[] = {11, 17, 17, 17, 17, 13, 6, 2};
    int band = prng_pick(r, w, (int)ARRAY_LEN(w));
    return unif_int(r, lo[band], hi[band]);
}

static int draw_marital(struct prng *r, int age)
{
    static const double w_young[] = {88, 11, 1, 0};
    static const double w_25[] = {48, 47, 5, 0};
    static const double w_35[] = {20, 62, 16, 2};
    static const double w_55[] = {12, 62, 18, 8};
    static const double w_70[] = {6, 50, 12, 32};
    const double *w = age < 25   ? w_young
                      : age < 35 ? w_25
                      : age < 55 ? w_35
                      : age < 70 ? w_55
                                 : w_70;
    return prng_pick(r, w, 4);
}

static int draw_education(struct prng *r, int age)
{
    static const double w_18[] = {55, 45, 0, 0, 0};
    static const double w_22[] = {30, 28, 38, 4, 0};
    static const double w_25[] = {26, 23, 34, 15, 2};
    static const double w_mid[] = {27, 23, 32, 14, 4};
    static const double w_70[] = {38, 22, 26, 11, 3};
    const double *w = age < 22 ? w_18 : age < 25 ? w_22 : age < 28 ? w_25 : age < 70 ? w_mid : w_70;
    return prng_pick(r, w, E_COUNT);
}

static int draw_employment(struct prng *r, int age, int marital)
{
    //                               full part self unemp stud retired home
    static const double w_18[J_COUNT] = {30, 20, 2, 5, 43, 0, 0};
    static const double w_23[J_COUNT] = {74, 8, 5, 5, 6, 0, 2};
    static const double w_30[J_COUNT] = {72, 6, 11, 4, 0, 0, 7};
    static const double w_55[J_COUNT] = {64, 7, 13, 4, 0, 7, 5};
    static const double w_62[J_COUNT] = {34, 8, 10, 2, 0, 42, 4};
    static const double w_67[J_COUNT] = {7, 6, 6, 0, 0, 79, 2};
    static const double w_75[J_COUNT] = {2, 2, 2, 0, 0, 93, 1};
    const double *src = age < 23   ? w_18
                        : age < 30 ? w_23
                        : age < 55 ? w_30
                        : age < 62 ? w_55
                        : age < 67 ? w_62
                        : age < 75 ? w_67
                                   : w_75;
    double w[J_COUNT];
    memcpy(w, src, sizeof w);
    if (marital != M_MARRIED) {
        w[J_HOME] = 0;
    }
    return prng_pick(r, w, J_COUNT);
}

static int draw_occupation(struct prng *r, int education, int employment)
{
    double w[ARRAY_LEN(k_occupations)];
    for (size_t i = 0; i < ARRAY_LEN(k_occupations); i++) {
        w[i] = k_occupations[i].w[education];
        bool employee = employment == J_FULL || employment == J_PART;
        if ((employment == J_SELF && k_occupations[i].self_employed == 0) ||
            (employee && k_occupations[i].self_employed == 2)) {
            w[i] = 0;
        }
    }
    return prng_pick(r, w, (int)ARRAY_LEN(w));
}

// Children: fills dependents, in_college and the baby/college events. Draws a fixed number of
// values whatever the outcome, so later columns do not shift when this one changes.
static void draw_children(struct prng *r, struct customer *c, double income_factor)
{
    static const double p_parent[] = {0.20, 0.82, 0.70, 0.80}; // by marital status
    static const double w_kids[] = {30, 42, 20, 8};            // 1..4 children
    bool parent = chance(r, p_parent[c->marital]) && c->age >= 22;
    int n_kids = 1 + prng_pick(r, w_kids, 4);
    double first = unif_range(r, 22, 36) + (c->education >= E_BA ? 3 : 0);
    double p_college = clampd(0.40 + 0.08 * c->education + 0.1 * income_factor, 0.2, 0.95);
    double born = first;
    for (int k = 0; k < 4; k++) {
        double gap = (double)unif_int(r, 1, 4);
        bool college = chance(r, p_college);
        if (!parent || k >= n_kids) {
            continue;
        }
        int child_age = (int)floor(c->age - born);
        born += gap;
        if (child_age < 0) {
            continue;
        }
        if (child_age <= 22) {
            c->dependents++;
        }
        if (child_age == 0) {
            c->events |= 1u << V_BABY;
        }
        if (child_age >= 18 && child_age <= 22 && college) {
            c->in_college++;
            if (child_age == 18) {
                c->events |= 1u << V_COLLEGE;
            }
        }
    }
}

static bool has_minor(const struct customer *c)
{
    return c->dependents > c->in_college;
}

// Balance left of a 30-year mortgage at 6% a year (0.5% a month) after `years` of payments.
static double mortgage_left(double principal, double years)
{
    const double q = 1.005;
    double n = 360, k = floor(years * 12);
    if (k >= n) {
        return 0;
    }
    return principal * (pow(q, n) - pow(q, k)) / (pow(q, n) - 1);
}

static void generate(struct prng *r, struct customer *c)
{
    memset(c, 0, sizeof *c);

    // ---- who ----
    c->age = draw_age(r);
    c->gender = chance(r, 0.51) ? G_FEMALE : G_MALE;
    double w_city[ARRAY_LEN(k_cities)];
    for (size_t i = 0; i < ARRAY_LEN(k_cities); i++) {
        w_city[i] = k_cities[i].weight;
    }
    c->city = prng_pick(r, w_city, (int)ARRAY_LEN(w_city));
    const double cost = k_cities[c->city].cost;
    c->marital = draw_marital(r, c->age);
    c->education = draw_education(r, c->age);
    c->employment = draw_employment(r, c->age, c->marital);
    c->occupation = draw_occupation(r, c->education, c->employment);

    // ---- income ----
    const struct occupation *occ = &k_occupations[c->occupation];
    double spread = lognorm(r, c->employment == J_SELF ? 0.6 : 0.35);
    double career = occ->pay * career_curve(c->age) * cost * spread;
    double u_income = unif(r);
    double income = 0;
    switch (c->employment) {
    case J_FULL:
    case J_SELF: income = career; break;
    case J_PART: income = 0.45 * career; break;
    case J_UNEMP: income = 15000 * u_income; break;
    case J_STUDENT: income = 2000 + 20000 * u_income; break;
    case J_RETIRED: income = 18000 + 0.45 * occ->pay * cost * spread; break;
    case J_HOME: income = 9000 * u_income; break;
    }
    c->income = round_to(income, 1000);
    // Household income adds a working spouse's pay; wealth, housing and debt-to-income use it.
    double spouse = 62000 * career_curve(c->age) * cost * lognorm(r, 0.5);
    bool spouse_works = chance(r, c->age < 67 ? 0.75 : 0.15);
    double household = (double)c->income + (c->marital == M_MARRIED && spouse_works ? spouse : 0);
    if (c->marital == M_MARRIED && !spouse_works && c->age >= 67) {
        household += 20000; // the spouse's pension
    }
    double hh = household > 12000 ? household : 12000;
    double income_factor =
        clampd(log2((c->income > 15000 ? (double)c->income : 15000) / 65000.0), -2, 4);

    draw_children(r, c, income_factor);

    // ---- relationship with the bank ----
    double max_years = clampd(c->age - 18, 0, 40);
    double open_days = floor(pow(unif(r), 1.3) * max_years * 365.25);
    int64_t as_of = datex_days_from_civil(AS_OF_Y, AS_OF_M, AS_OF_D);
    datex_civil_from_days(as_of - (int64_t)open_days, &c->since_y, &c->since_m, &c->since_d);
    c->tenure_years = (int)(open_days / 365.25);

    // ---- housing ----
    double base_own = c->age < 25 ? 0.08 : c->age < 35 ? 0.40 : c->age < 65 ? 0.72 : 0.80;
    double p_own = clampd(base_own + 0.15 * log2(hh / 70000.0), 0.02, 0.97);
    double p_mortgage = c->age < 35 ? 0.95 : c->age < 55 ? 0.85 : c->age < 65 ? 0.65 : 0.30;
    bool owner = chance(r, p_own);
    bool mortgaged = chance(r, p_mortgage);
    bool family = chance(r, 0.45);
    c->housing =
        owner ? (mortgaged ? H_MORTGAGE : H_OWN) : (c->age < 27 && family ? H_FAMILY : H_RENT);
    double price = hh * unif_range(r, 2.8, 4.8) * sqrt(cost);
    double years_owned = unif_range(r, 0, clampd(c->age - 24, 0.5, 29.9));
    double mortgage_all = mortgage_left(0.8 * price, years_owned);
    bool mortgage_with_us = chance(r, 0.70);
    if (c->housing == H_MORTGAGE) {
        if (mortgage_with_us) {
            c->mortgage = round_to(mortgage_all, 1);
        }
        if (years_owned < 1) {
            c->events |= 1u << V_HOME;
        }
    } else {
        mortgage_all = 0;
    }

    // ---- assets held with us ----
    bool inheritance = c->age >= 40 && c->age <= 75 && chance(r, 0.02);
    double working_years = clampd(c->age - 23, 0, 42);
    double wealth = hh * (0.10 + 0.04 * working_years + 0.0015 * working_years * working_years) *
                    lognorm(r, 1.0) * (inheritance ? 4.0 : 1.0);
    double wealth_level = clampd(log10(wealth / 50000.0) / 2.0, 0, 1); // 0 at $50k, 1 at $5M
    bool has_checking = chance(r, 0.96);
    bool has_savings = chance(r, 0.72);
    bool has_brokerage = chance(r, 0.08 + 0.55 * wealth_level + (c->age < 25 ? -0.05 : 0));
    bool has_ira = chance(r, c->age < 30 ? 0.05 : 0.15 + 0.45 * wealth_level);
    double share = unif_range(r, 0.2, 0.7); // of the household's assets that are with us
    double w_sav = unif_range(r, 0.2, 0.5), w_inv = unif_range(r, 0.3, 0.6);
    double w_ira = unif_range(r, 0.2, 0.5);
    double checking_months = unif_range(r, 0.3, 2.5);
    if (has_checking) {
        c->checking = round_to(hh / 12.0 * checking_months, 1);
    }
    double total_w =
        (has_savings ? w_sav : 0) + (has_brokerage ? w_inv : 0) + (has_ira ? w_ira : 0);
    if (total_w > 0) {
        double pot = wealth * share;
        c->savings = has_savings ? round_to(pot * w_sav / total_w, 1) : 0;
        c->investment = has_brokerage ? round_to(pot * w_inv / total_w, 1) : 0;
        c->retirement = has_ira ? round_to(pot * w_ira / total_w, 1) : 0;
    }
    // Every held deposit product has at least a little money in it.
    if (has_savings && c->savings < 25) {
        c->savings = 25 + (int64_t)(unif(r) * 500);
    } else {
        (void)unif(r);
    }
    if (has_checking && c->checking < 10) {
        c->checking = 10;
    }
    int64_t assets = c->checking + c->savings + c->investment + c->retirement;

    // ---- segment ----
    int seg = assets >= 1000000  ? S_PRIVATE
              : assets >= 250000 ? S_AFFLUENT
              : assets >= 50000  ? S_MASS_AFFLUENT
                                 : S_MASS;
    int seg_income = c->income >= 500000   ? S_PRIVATE
                     : c->income >= 250000 ? S_AFFLUENT
                     : c->income >= 150000 ? S_MASS_AFFLUENT
                                           : S_MASS;
    c->segment = seg > seg_income ? seg : seg_income;

    // ---- credit ----
    double u = 32 - 9 * income_factor - 0.3 * (c->age - 40) + 20 * prng_gauss(r);
    if (chance(r, 0.18)) {
        u = unif_range(r, 0, 9.99);
    }
    c->utilization = (int)floor(clampd(u, 0, 100) + 0.5);
    double history = 1.1 * clampd(c->age - 25, 0, 45);
    double score =
        700 + history + 18 * income_factor - 2.1 * (c->utilization - 25) + 40 * prng_gauss(r);
    if (c->employment == J_STUDENT) {
        score -= 20;
    }
    c->credit_score = (int)floor(clampd(score, 300, 850) + 0.5);

    bool has_card = chance(r, (c->age < 22 ? 0.35 : 0.55) + (c->credit_score > 700 ? 0.1 : 0));
    bool reserve = chance(r, 0.6);
    if (!has_card) {
        c->card = C_NONE;
    } else if (c->segment == S_PRIVATE && c->credit_score >= 720 && reserve) {
        c->card = C_RESERVE;
    } else if (c->income >= 120000 && c->credit_score >= 740) {
        c->card = C_PLATINUM;
    } else if (c->income >= 60000 && c->credit_score >= 680) {
        c->card = C_GOLD;
    } else {
        c->card = C_STANDARD;
    }

    // ---- loans ----
    bool auto_loan = c->age >= 21 && c->age <= 75 &&
                     (c->employment != J_UNEMP && c->employment != J_STUDENT) && chance(r, 0.28);
    double auto_amount = unif_range(r, 6000, 48000) * pow(clampd(hh / 70000.0, 0.3, 4), 0.3);
    double auto_left = unif_range(r, 0.1, 1.0);
    if (auto_loan) {
        c->auto_loan = round_to(auto_amount * auto_left, 1);
    }
    static const double p_student[E_COUNT] = {0.02, 0.30, 0.50, 0.60, 0.65};
    static const double student_orig[E_COUNT] = {8000, 15000, 30000, 65000, 110000};
    static const double grad_age[E_COUNT] = {18, 21, 22, 25, 29};
    bool student = chance(r, p_student[c->education] * clampd((50 - c->age) / 25.0, 0, 1));
    double orig =
        student_orig[c->education] * (c->occupation == OCC_PHYSICIAN ? 1.8 : 1.0) * lognorm(r, 0.4);
    if (student) {
        double since = c->employment == J_STUDENT ? 0 : c->age - grad_age[c->education];
        c->student_loan = round_to(orig * clampd(1 - since / 20.0, 0.05, 1), 1);
    }

    // Debt-to-income against household income; card payments are 3% of the revolving balance on
    // limits of ~20% of income.
    double monthly = mortgage_all * 0.0060 + (double)c->auto_loan * 0.022 +
                     (double)c->student_loan * 0.011 + c->utilization / 100.0 * 0.20 * hh * 0.03;
    c->dti = (int)floor(clampd(monthly * 12 / hh * 100, 0, 95) + 0.5);

    // ---- investing attitude ----
    double risk = 2.0 - 0.04 * (c->age - 45) +
                  0.35 * log10((assets > 1000 ? (double)assets : 1000) / 100000.0) +
                  (c->income > 150000 ? 0.3 : 0) + 0.9 * prng_gauss(r);
    c->risk = (int)floor(clampd(risk, 0, 4) + 0.5);
    c->equity = k_risk_equity[c->risk] + unif_int(r, -5, 5);

    // ---- digital ----
    double p_digital = c->age < 35   ? 0.93
                       : c->age < 50 ? 0.86
                       : c->age < 65 ? 0.70
                       : c->age < 75 ? 0.50
                                     : 0.30;
    c->digital = chance(r, p_digital);
    double login_mean = 4 + 18 * exp(-(c->age - 25) / 40.0);
    double logins = login_mean * lognorm(r, 0.6);
    bool mobile = chance(r, c->age < 45 ? 0.75 : 0.45);
    bool branch = chance(r, 0.7);
    if (c->digital) {
        c->logins = (int)clampd(floor(logins + 0.5), 1, 150);
        c->channel = mobile ? CH_MOBILE : CH_ONLINE;
    } else {
        c->channel = branch ? CH_BRANCH : CH_PHONE;
    }

    // ---- products (consistent with the balances above) ----
    unsigned p = 0;
    p |= (c->checking > 0) << P_CHECKING;
    p |= (c->savings > 0) << P_SAVINGS;
    p |= chance(r, 0.05 + (c->age >= 60 ? 0.15 : 0)) << P_CD;
    p |= (c->investment > 0) << P_BROKERAGE;
    p |= (c->retirement > 0) << P_IRA;
    p |= (has_minor(c) && c->income >= 60000 && chance(r, 0.35)) << P_529;
    p |= (c->card != C_NONE) << P_CARD;
    p |= (c->mortgage > 0) << P_MORTGAGE;
    p |= ((c->housing == H_OWN || c->housing == H_MORTGAGE) && c->age >= 35 && c->age <= 75 &&
          chance(r, 0.07))
         << P_HELOC;
    p |= (c->auto_loan > 0) << P_AUTO;
    p |= (c->student_loan > 0) << P_STUDENT;
    p |= chance(r, 0.05 + (c->utilization > 60 ? 0.10 : 0)) << P_PERSONAL;
    double p_advisory = c->segment == S_PRIVATE         ? 0.70
                        : c->segment == S_AFFLUENT      ? 0.35
                        : c->segment == S_MASS_AFFLUENT ? 0.06
                                                        : 0;
    p |= chance(r, p_advisory) << P_ADVISORY;
    if (p == 0) { // everyone holds something: a checking account with a small balance
        p = 1u << P_CHECKING;
        c->checking = 10 + (int64_t)(checking_months * 100);
    }
    c->products = p;

    // ---- life events of the last year ----
    bool employed = c->employment == J_FULL || c->employment == J_PART || c->employment == J_SELF;
    c->events |= (c->marital == M_MARRIED && c->age < 45 && chance(r, 0.10)) << V_MARRIAGE;
    c->events |= (c->marital == M_DIVORCED && chance(r, 0.12)) << V_DIVORCE;
    c->events |= (c->age >= 21 && c->age <= 26 && c->education >= E_BA &&
                  c->employment != J_STUDENT && chance(r, 0.35))
                 << V_GRADUATION;
    c->events |= (employed && chance(r, 0.08)) << V_JOB;
    c->events |= (c->employment == J_FULL && c->age >= 28 && c->age <= 55 && chance(r, 0.07))
                 << V_PROMOTION;
    c->events |= (c->employment == J_RETIRED && c->age >= 60 && c->age <= 67 && chance(r, 0.45))
                 << V_RETIREMENT;
    c->events |= chance(r, 0.04) << V_RELOCATION;
    c->events |= inheritance << V_INHERITANCE;

    // ---- interests (by life stage) ----
    double pi[I_COUNT];
    bool retired = c->employment == J_RETIRED;
    pi[I_RETIREMENT] = c->age < 30    ? 0.06
                       : c->age < 45  ? 0.18
                       : c->age < 55  ? 0.40
                       : retired      ? 0.35
                       : c->age <= 67 ? 0.72
                                      : 0.40;
    pi[I_EDUCATION] = has_minor(c) ? 0.50 : c->in_college > 0 ? 0.45 : 0.03;
    pi[I_HOME] = (c->housing == H_RENT || c->housing == H_FAMILY) && c->age >= 24 && c->age <= 45
                     ? 0.42
                 : (c->events & (1u << V_HOME)) ? 0.30
                                                : 0.04;
    pi[I_TRAVEL] = 0.18 + (c->income > 100000 ? 0.15 : 0) + (retired ? 0.22 : 0);
    static const double p_wealth[] = {0.04, 0.25, 0.55, 0.70};
    pi[I_WEALTH] = p_wealth[c->segment];
    pi[I_INVESTING] = 0.12 + (c->risk >= 3 ? 0.25 : 0) + (c->investment > 0 ? 0.20 : 0);
    pi[I_TAX] = (c->income >= 200000   ? 0.50
                 : c->income >= 100000 ? 0.25
                                       : 0.06) +
                (c->employment == J_SELF ? 0.30 : 0);
    pi[I_ESTATE] =
        c->age >= 60 ? (assets >= 250000 ? 0.55 : 0.15) : (assets >= 1000000 ? 0.25 : 0.02);
    pi[I_BUSINESS] = c->employment == J_SELF || c->occupation == OCC_BUSINESS_OWNER ? 0.70 : 0.02;
    pi[I_DEBT] = c->dti > 40 || c->utilization > 60 ? 0.45 : 0.03;
    pi[I_BUDGET] = (c->income < 45000 ? 0.35 : 0.08) + (c->age < 30 ? 0.10 : 0);
    pi[I_AUTO] = c->age >= 20 && c->age <= 65 ? 0.09 : 0.03;
    pi[I_INSURANCE] = (c->events & ((1u << V_BABY) | (1u << V_MARRIAGE))) ? 0.45
                      : c->dependents > 0                                 ? 0.15
                                                                          : 0.05;
    pi[I_CHARITY] = c->segment >= S_AFFLUENT ? 0.30 : c->age > 60 ? 0.12 : 0.04;
    unsigned in = 0;
    int best = 0;
    for (int k = 0; k < I_COUNT; k++) {
        in |= chance(r, pi[k]) << k;
        if (pi[k] > pi[best]) {
            best = k;
        }
    }
    c->interests = in ? in : 1u << best;
}

// ---------------------------------------------------------------------------------------------
// Formatting: a bounded line writer (no printf: this is the hot loop)

struct line {
    char *p;
    size_t n, cap;
    bool overflow;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (n > l->cap - l->n) {
        l->overflow = true;
        return;
    }
    memcpy(l->p + l->n, s, n);
    l->n += n;
}

static void put_c(struct line *l, char ch)
{
    put(l, &ch, 1);
}

static void put_s(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

// A text field, quoted per RFC 4180 when it holds ',', '"', CR or LF.
static void put_field(struct line *l, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        put_s(l, s);
        return;
    }
    put_c(l, '"');
    for (; *s; s++) {
        if (*s == '"') {
            put_c(l, '"');
        }
        put_c(l, *s);
    }
    put_c(l, '"');
}

// Decimal digits of v, zero-padded to at least width.
static void put_uint(struct line *l, uint64_t v, int width)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[sizeof tmp - 1 - (size_t)n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0);
    while (n < width && n < (int)sizeof tmp) {
        tmp[sizeof tmp - 1 - (size_t)n++] = '0';
    }
    put(l, tmp + sizeof tmp - (size_t)n, (size_t)n);
}

static void put_int(struct line *l, int v)
{
    if (v < 0) {
        put_c(l, '-');
        v = -v;
    }
    put_uint(l, (uint64_t)v, 1);
}

// "$1,234,567" — quoted when it has a thousands comma.
static void put_money(struct line *l, int64_t v)
{
    char tmp[40];
    int n = 0;
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    int digits = 0;
    do {
        if (digits > 0 && digits % 3 == 0) {
            tmp[sizeof tmp - 1 - (size_t)n++] = ',';
        }
        tmp[sizeof tmp - 1 - (size_t)n++] = (char)('0' + u % 10);
        u /= 10;
        digits++;
    } while (u > 0);
    tmp[sizeof tmp - 1 - (size_t)n++] = '$';
    bool quote = digits > 3;
    if (quote) {
        put_c(l, '"');
    }
    put(l, tmp + sizeof tmp - (size_t)n, (size_t)n);
    if (quote) {
        put_c(l, '"');
    }
}

static void put_pct(struct line *l, int v)
{
    put_int(l, v);
    put_c(l, '%');
}

static void put_date(struct line *l, int y, int m, int d)
{
    put_uint(l, (uint64_t)y, 4);
    put_c(l, '-');
    put_uint(l, (uint64_t)m, 2);
    put_c(l, '-');
    put_uint(l, (uint64_t)d, 2);
}

// Items of a bit set joined by "; " (no item contains ',' or '"', so no quoting).
static void put_list(struct line *l, unsigned bits, const char *const *names, int n)
{
    bool first = true;
    for (int k = 0; k < n; k++) {
        if (bits & (1u << k)) {
            if (!first) {
                put(l, "; ", 2);
            }
            put_s(l, names[k]);
            first = false;
        }
    }
}

static void format_row(struct line *l, const struct customer *c, uint64_t id, int id_width)
{
    put(l, "CUST-", 5);
    put_uint(l, id, id_width);
    put_c(l, ',');
    put_int(l, c->age);
    put_c(l, ',');
    put_s(l, k_gender[c->gender]);
    put_c(l, ',');
    put_s(l, k_marital[c->marital]);
    put_c(l, ',');
    put_int(l, c->dependents);
    put_c(l, ',');
    put_int(l, c->in_college);
    put_c(l, ',');
    put_field(l, k_education[c->education]);
    put_c(l, ',');
    put_field(l, c->employment == J_STUDENT ? "Student"
                 : c->employment == J_HOME  ? "Homemaker"
                                            : k_occupations[c->occupation].name);
    put_c(l, ',');
    put_s(l, k_employment[c->employment]);
    put_c(l, ',');
    put_money(l, c->income);
    put_c(l, ',');
    put_int(l, c->credit_score);
    put_c(l, ',');
    put_s(l, k_segment[c->segment]);
    put_c(l, ',');
    put_s(l, k_risk[c->risk]);
    put_c(l, ',');
    put_s(l, k_region[k_cities[c->city].region]);
    put_c(l, ',');
    put_field(l, k_cities[c->city].name);
    put_c(l, ',');
    put_date(l, c->since_y, c->since_m, c->since_d);
    put_c(l, ',');
    put_int(l, c->tenure_years);
    put_c(l, ',');
    put_s(l, k_housing[c->housing]);
    const int64_t money[] = {c->checking, c->savings,   c->investment,  c->retirement,
                             c->mortgage, c->auto_loan, c->student_loan};
    for (size_t k = 0; k < ARRAY_LEN(money); k++) {
        put_c(l, ',');
        put_money(l, money[k]);
    }
    put_c(l, ',');
    put_s(l, k_card[c->card]);
    put_c(l, ',');
    put_pct(l, c->utilization);
    put_c(l, ',');
    put_pct(l, c->dti);
    put_c(l, ',');
    put_pct(l, c->equity);
    put_c(l, ',');
    put_list(l, c->products, k_products, P_COUNT);
    put_c(l, ',');
    put_s(l, c->digital ? "Yes" : "No");
    put_c(l, ',');
    put_int(l, c->logins);
    put_c(l, ',');
    put_s(l, k_channel[c->channel]);
    put_c(l, ',');
    put_list(l, c->interests, k_interests, I_COUNT);
    put_c(l, ',');
    put_list(l, c->events, k_events, V_COUNT);
    put_c(l, '\n');
}

// ---------------------------------------------------------------------------------------------
// Public API

struct bankgen {
    struct bankgen_params params;
    int id_width;  // digits of customer ids: max(6, digits(rows))
    uint64_t next; // row cursor
};

struct bankgen_params bankgen_default_params(void)
{
    struct bankgen_params p = {
        .rows = 1000,
        .seed = 42,
    };
    return p;
}

int bankgen_new(const struct bankgen_params *params, struct bankgen **out, struct px_err *err)
{
    *out = NULL;
    if (params->rows > LIMIT_GENERATE_ROWS) {
        return px_fail(err, PX_ELIMIT,
                       "%llu rows requested, over the limit of %llu (LIMIT_GENERATE_ROWS)",
                       (unsigned long long)params->rows, (unsigned long long)LIMIT_GENERATE_ROWS);
    }
    struct bankgen *g = px_calloc(1, sizeof *g);
    if (g == NULL) {
        return px_fail(err, PX_ENOMEM, "out of memory creating the bank generator");
    }
    g->params = *params;
    g->id_width = 6;
    for (uint64_t v = params->rows / 1000000; v > 0; v /= 10) {
        g->id_width++;
    }
    *out = g;
    return PX_OK;
}

void bankgen_free(struct bankgen *g)
{
    px_free(g);
}

int bankgen_header(const struct bankgen *g, struct buf *line, struct px_err *err)
{
    (void)g;
    char tmp[1024];
    struct line l = {tmp, 0, sizeof tmp, false};
    for (size_t i = 0; i < ARRAY_LEN(k_columns); i++) {
        if (i > 0) {
            put_c(&l, ',');
        }
        put_s(&l, k_columns[i]);
    }
    put_c(&l, '\n');
    if (l.overflow) {
        return px_fail(err, PX_EINTERNAL, "header longer than %zu bytes", sizeof tmp);
    }
    return buf_append(line, tmp, l.n, err);
}

int bankgen_row(const struct bankgen *g, uint64_t i, struct buf *line, struct px_err *err)
{
    if (i >= g->params.rows) {
        return px_fail(err, PX_EINVAL, "row %llu: past the last of %llu rows",
                       (unsigned long long)i, (unsigned long long)g->params.rows);
    }
    struct prng r;
    struct customer c;
    rng_seed(&r, g->params.seed, i);
    generate(&r, &c);
    char tmp[LIMIT_GENERATE_ROW_BYTES];
    struct line l = {tmp, 0, sizeof tmp, false};
    format_row(&l, &c, i + 1, g->id_width);
    if (l.overflow) {
        return px_fail(err, PX_EINTERNAL, "row %llu: longer than LIMIT_GENERATE_ROW_BYTES (%d)",
                       (unsigned long long)i, LIMIT_GENERATE_ROW_BYTES);
    }
    return buf_append(line, tmp, l.n, err);
}

bool bankgen_has_next(const struct bankgen *g)
{
    return g->next < g->params.rows;
}

int bankgen_next_row(struct bankgen *g, struct buf *line, struct px_err *err)
{
    int rc = bankgen_row(g, g->next, line, err);
    if (rc == PX_OK) {
        g->next++;
    }
    return rc;
}

uint64_t bankgen_rows_done(const struct bankgen *g)
{
    return g->next;
}
