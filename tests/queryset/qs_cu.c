// qs_cu.c — the query set's fourth schema: the member table of a (fictional) credit union,
// written for this set so that its column names and values are unlike the retail generator's
// (src/data/bankgen.c): a parser tuned on that bank's words must find these through the
// book's own vocabulary, or say it did not understand.
//
// One row is one member of "Lakeshore Community Credit Union" as of 2025-06-30:
//
//  column              type      values
//  member_no           id        LCU-10001 ...
//  member_since        date      joined from age 16, 1975 at the earliest, skewed recent
//  age_yrs             integer   18..92 (adult age bands)
//  sex                 category  F / M (not "Female"/"Male")
//  marital             category  Married, Single, Divorced, Widowed, Domestic Partner (by age)
//  household_size      integer   1..8: the member, a spouse or partner, kids at home, parents
//                                when living in the family home, sometimes another relative
//  kids_at_home        integer   0..4 children (members aged 22..60 mostly)
//  occupation_title    category  ~23 titles (Registered Nurse, Family Doctor, Lawyer, Welder,
//                                Farmer, Pastor, ...; "Student"; retirees keep their last title)
//  work_status         category  Working, Self-employed, Retired, Student, Not working (by age)
//  state               category  two-letter codes: MI (most), OH, IN, IL, WI, MN, TX, FL, AZ,
//                                CA, NY — never the state's name
//  home_status         category  Homeowner (no loan), Mortgaged, Renter, Family Home (by age)
//  household_earnings  currency  title's pay x career curve x noise, spouse's pay for most
//                                couples; retirees a pension; rounded to $500
//  deposit_total       currency  savings with the union: earnings x working years x noise
//  share_certificates  currency  the credit union's word for CDs; more often from 50; $0 when
//                                none
//  home_loan_owed      currency  > $0 for 75% of Mortgaged members (the rest borrow elsewhere)
//  auto_loan_owed      currency  30% of members 21..75
//  fico                integer   300..850: rises with age and earnings, noise; one member in
//                                eight 130 points lower (damaged credit)
//  card_type           category  None, Share Secured, Visa Classic, Visa Platinum, Visa
//                                Signature (by fico and earnings)
//  credit_use_pct      percent   0..100, falls with fico
//  days_past_due       integer   0 for most; 15/30/60/90 with low fico
//  services            list      Share Savings (every member); Checking; Share Certificate;
//                                IRA; Auto Loan; Home Loan; HELOC; Visa Card; Online Banking;
//                                Bill Pay; Direct Deposit — consistent with the balances
//  goals               list      Buy a Home; Pay Off Debt; College Fund; Retire Early; Start a
//                                Business; Travel; Build Credit; Emergency Fund; Leave a Legacy
//                                (by life stage; may be empty)
//  veteran             bool      Y / N
//  paperless           bool      Y / N (mostly online bankers)
//  branch              category  Main Street, Lakeside, Westgate, Online Only (out-of-state
//                                members are mostly Online Only)
//
// Randomness: splitmix64 over (seed, row, draw number), integer and double arithmetic only (no
// libm), so the file is the same bytes on every machine; row i depends only on (seed, i).
#include "queryset.h"

#include <errno.h>
#include <string.h>

#include "buf.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct rng {
    uint64_t s;
};

static uint64_t next64(struct rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// [0, 1)
static double unif(struct rng *r) { return (double)(next64(r) >> 11) * (1.0 / 9007199254740992.0); }
static int unif_int(struct rng *r, int lo, int hi) { return lo + (int)(unif(r) * (hi - lo + 1)); }
static bool chance(struct rng *r, double p) { return unif(r) < p; }

// Index drawn by weights w[0..n).
static int pick(struct rng *r, const double *w, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++) sum += w[i];
    double u = unif(r) * sum;
    for (int i = 0; i < n; i++) {
        if (u < w[i]) return i;
        u -= w[i];
    }
    return n - 1;
}

// Roughly normal(0, 1): the sum of four uniforms, centred and scaled.
static double noise(struct rng *r)
{
    return (unif(r) + unif(r) + unif(r) + unif(r) - 2.0) * 1.7320508;
}

struct title {
    const char *name;
    double pay;  // mid-career, dollars
    double w;    // draw weight for employees
    double w_se; // draw weight for the self-employed
};

static const struct title k_titles[] = {
    {"Registered Nurse", 78000, 8, 0},       {"Nurse Practitioner", 118000, 3, 0},
    {"Pharmacist", 125000, 2, 0},            {"Dentist", 165000, 1, 1},
    {"Family Doctor", 210000, 1.5, 0.5},     {"Lawyer", 140000, 2, 1},
    {"Paralegal", 55000, 2, 0},              {"Elementary Teacher", 58000, 5, 0},
    {"High School Teacher", 64000, 4, 0},    {"Farmer", 60000, 1, 4},
    {"Welder", 52000, 4, 1},                 {"Plumber", 61000, 3, 2},
    {"Software Developer", 120000, 4, 1},    {"Accountant", 75000, 4, 1},
    {"Truck Driver", 56000, 5, 1},           {"Firefighter", 62000, 2, 0},
    {"Police Officer", 66000, 2, 0},         {"Cashier", 29000, 6, 0},
    {"Chef", 45000, 3, 0.5},                 {"Small Business Owner", 90000, 0, 6},
    {"Pastor", 52000, 1, 0},                 {"Auto Mechanic", 50000, 4, 1},
    {"Office Manager", 58000, 5, 0},
};

static const char *const k_states[] = {"MI", "OH", "IN", "IL", "WI", "MN",
                                       "TX", "FL", "AZ", "CA", "NY"};
static const double k_state_w[] = {30, 14, 8, 10, 8, 6, 7, 7, 4, 4, 2};

enum work { W_WORKING, W_SELF, W_RETIRED, W_STUDENT, W_NONE };
static const char *const k_work[] = {"Working", "Self-employed", "Retired", "Student",
                                     "Not working"};
enum marital { M_MARRIED, M_SINGLE, M_DIVORCED, M_WIDOWED, M_PARTNER };
static const char *const k_marital[] = {"Married", "Single", "Divorced", "Widowed",
                                        "Domestic Partner"};
enum home { H_OWNER, H_MORTGAGED, H_RENTER, H_FAMILY };
static const char *const k_home[] = {"Homeowner", "Mortgaged", "Renter", "Family Home"};
static const char *const k_cards[] = {"None", "Share Secured", "Visa Classic", "Visa Platinum",
                                      "Visa Signature"};
static const char *const k_branches[] = {"Main Street", "Lakeside", "Westgate", "Online Only"};

static int draw_age(struct rng *r)
{
    static const int lo[] = {18, 25, 35, 45, 55, 65, 75};
    static const int hi[] = {24, 34, 44, 54, 64, 74, 92};
    static const double w[] = {12, 18, 17, 17, 16, 12, 8};
    int b = pick(r, w, 7);
    return unif_int(r, lo[b], hi[b]);
}

static int draw_work(struct rng *r, int age)
{
    if (age < 23) {
        static const double w[] = {35, 0, 0, 60, 5};
        return pick(r, w, 5);
    }
    if (age >= 67) {
        static const double w[] = {8, 2, 90, 0, 0};
        return pick(r, w, 5);
    }
    if (age >= 60) {
        static const double w[] = {43, 10, 45, 0, 2};
        return pick(r, w, 5);
    }
    static const double w_young[] = {74, 12, 0, 8, 6};
    static const double w_mid[] = {80, 13, 1, 0, 6};
    return pick(r, age < 30 ? w_young : w_mid, 5);
}

static int draw_marital(struct rng *r, int age)
{
    static const double w_u25[] = {8, 90, 0, 0, 2};
    static const double w_u35[] = {40, 45, 7, 0, 8};
    static const double w_u65[] = {58, 14, 18, 4, 6};
    static const double w_old[] = {50, 10, 12, 28, 0};
    return pick(r, age < 25 ? w_u25 : age < 35 ? w_u35 : age < 65 ? w_u65 : w_old, 5);
}

static int draw_home(struct rng *r, int age)
{
    static const double w_u25[] = {0, 5, 40, 55};
    static const double w_u35[] = {5, 35, 50, 10};
    static const double w_u65[] = {20, 55, 25, 0};
    static const double w_old[] = {60, 20, 20, 0};
    return pick(r, age < 25 ? w_u25 : age < 35 ? w_u35 : age < 65 ? w_u65 : w_old, 4);
}

static double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

struct member {
    int age, sex_f, marital, kids, household, title, work, state, home;
    double earnings, deposits, certificates, home_loan, auto_loan;
    int fico, card, use_pct, past_due, veteran, paperless, branch;
    int since_y, since_m, since_d;
    bool svc_checking, svc_ira, svc_heloc, svc_online, svc_billpay, svc_direct;
    unsigned goals; // bit i: k_goals[i]
};

static const char *const k_goals[] = {"Buy a Home",       "Pay Off Debt", "College Fund",
                                      "Retire Early",     "Start a Business", "Travel",
                                      "Build Credit",     "Emergency Fund",   "Leave a Legacy"};

static void draw_member(struct rng *r, struct member *m)
{
    memset(m, 0, sizeof *m);
    m->age = draw_age(r);
    m->sex_f = chance(r, 0.52);
    m->work = draw_work(r, m->age);
    m->marital = draw_marital(r, m->age);
    bool couple = m->marital == M_MARRIED || m->marital == M_PARTNER;
    if (m->age >= 22 && m->age <= 60 && chance(r, couple ? 0.70 : 0.25)) {
        static const double w[] = {35, 40, 18, 7};
        m->kids = 1 + pick(r, w, 4);
    } else if (m->age > 60 && chance(r, 0.05)) {
        m->kids = 1;
    }
    m->home = draw_home(r, m->age);
    m->household = 1 + couple + m->kids + (m->home == H_FAMILY ? 2 : 0) + chance(r, 0.08);
    m->state = pick(r, k_state_w, (int)ARRAY_LEN(k_states));

    double w[ARRAY_LEN(k_titles)];
    for (size_t i = 0; i < ARRAY_LEN(k_titles); i++) {
        w[i] = m->work == W_SELF ? k_titles[i].w_se : k_titles[i].w;
    }
    m->title = pick(r, w, (int)ARRAY_LEN(k_titles));
    double pay = k_titles[m->title].pay;
    double curve = m->age < 45 ? 0.6 + 0.4 * (m->age - 22) / 23.0 : 1.0;
    double own;
    switch (m->work) {
    case W_STUDENT: own = 3000 + unif(r) * 22000; break;
    case W_RETIRED: own = 0.5 * pay + 12000; break;
    case W_NONE: own = unif(r) * 15000; break;
    default: own = pay * clamp(curve, 0.5, 1.0) * (0.7 + 0.6 * unif(r)); break;
    }
    double spouse = couple && chance(r, 0.7) ? unif(r) * 0.9 * pay : 0;
    m->earnings = (double)(long)((own + spouse) / 500.0 + 0.5) * 500.0;

    int working_years = m->age > 22 ? m->age - 22 : 1;
    double u = unif(r);
    m->deposits = (double)(long)(m->earnings * working_years / 12.0 * (0.05 + 2.5 * u * u) *
                                 (m->work == W_RETIRED ? 1.5 : 1.0));
    double p_cd = m->age >= 65 ? 0.45 : m->age >= 50 ? 0.30 : 0.08;
    if (chance(r, p_cd)) {
        m->certificates = (double)(long)(m->deposits * (0.2 + 0.4 * unif(r)) / 100.0) * 100.0;
    }
    if (m->home == H_MORTGAGED && chance(r, 0.75)) {
        double left = clamp(1.0 - (m->age - 30) / 40.0, 0.1, 1.0);
        m->home_loan = (double)(long)(m->earnings * (1.5 + 2.0 * unif(r)) * left);
        if (m->home_loan < 1000) m->home_loan = 1000;
    }
    if (m->age >= 21 && m->age <= 75 && chance(r, 0.30)) {
        m->auto_loan = (double)(long)(5000 + unif(r) * 35000 * clamp(m->earnings / 80000, 0.3, 1.5));
    }
    // one member in eight has damaged credit (missed payments, collections): 130 points lower
    bool damaged = chance(r, 0.125);
    double f = 680 + clamp(m->age - 18, 0, 50) * 1.2 + clamp((m->earnings - 60000) / 2000, -30, 40) +
               noise(r) * 45 - (damaged ? 130 + noise(r) * 50 : 0);
    m->fico = (int)clamp(f, 300, 850);
    m->use_pct = (int)clamp(30 - (m->fico - 680) / 4.0 + noise(r) * 12, 0, 100);
    if (m->fico < 600) {
        static const int d[] = {15, 30, 60, 90};
        m->past_due = chance(r, 0.6) ? 0 : d[unif_int(r, 0, 3)];
    } else if (m->fico < 680) {
        m->past_due = chance(r, 0.9) ? 0 : (chance(r, 0.5) ? 15 : 30);
    }
    if (m->fico < 620) {
        m->card = chance(r, 0.4) ? 1 : 0;
    } else if (m->fico >= 760 && m->earnings >= 120000 && chance(r, 0.6)) {
        m->card = 4;
    } else if (m->fico >= 720 && m->earnings >= 70000 && chance(r, 0.6)) {
        m->card = 3;
    } else {
        m->card = chance(r, 0.7) ? 2 : 0;
    }
    m->svc_checking = chance(r, 0.85);
    m->svc_ira = m->age >= 30 && chance(r, m->age >= 50 ? 0.5 : 0.3);
    m->svc_heloc = (m->home == H_OWNER || m->home == H_MORTGAGED) && chance(r, 0.10);
    m->svc_online = chance(r, m->age < 35 ? 0.9 : m->age < 55 ? 0.7 : m->age < 70 ? 0.45 : 0.25);
    m->svc_billpay = m->svc_online && chance(r, 0.6);
    m->svc_direct = m->work == W_WORKING && chance(r, 0.7);

    bool renter = m->home == H_RENTER || m->home == H_FAMILY;
    if (renter && m->age >= 25 && m->age <= 45 && chance(r, 0.6)) m->goals |= 1u << 0;
    if (chance(r, m->use_pct >= 60 || m->past_due > 0 ? 0.7 : 0.1)) m->goals |= 1u << 1;
    if (m->kids > 0 && chance(r, 0.5)) m->goals |= 1u << 2;
    if (m->work == W_WORKING && m->age >= 30 && m->age <= 55 && m->earnings >= 90000 &&
        chance(r, 0.4)) {
        m->goals |= 1u << 3;
    }
    if (chance(r, m->work == W_SELF ? 0.3 : m->age >= 22 && m->age <= 45 ? 0.1 : 0.0)) {
        m->goals |= 1u << 4;
    }
    if (chance(r, m->work == W_RETIRED ? 0.4 : 0.25)) m->goals |= 1u << 5;
    if ((m->fico < 650 || m->age < 25) && chance(r, 0.5)) m->goals |= 1u << 6;
    if (chance(r, 0.2)) m->goals |= 1u << 7;
    if (m->age >= 65 && chance(r, 0.4)) m->goals |= 1u << 8;

    m->veteran = m->age >= 21 && chance(r, m->sex_f ? 0.03 : 0.15);
    m->paperless = chance(r, m->svc_online ? 0.7 : 0.05);
    bool home_state = m->state <= 2; // MI, OH, IN
    if (!home_state && chance(r, 0.85)) {
        m->branch = 3;
    } else {
        static const double wb[] = {35, 25, 25, 15};
        m->branch = pick(r, wb, 4);
    }
    int y_min = 2025 - m->age + 16;
    if (y_min < 1975) y_min = 1975;
    double v = unif(r);
    m->since_y = 2025 - (int)((2025 - y_min) * v * v);
    m->since_m = unif_int(r, 1, m->since_y == 2025 ? 6 : 12);
    m->since_d = unif_int(r, 1, 28);
}

// ---- writing ----

static int put_money(struct buf *l, double v, struct px_err *err)
{
    // "$1,234,567", quoted because of the commas
    long x = (long)v;
    char digits[32], out[48];
    int n = snprintf(digits, sizeof digits, "%ld", x);
    size_t o = 0;
    out[o++] = '"';
    out[o++] = '$';
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o++] = '"';
    return buf_append(l, out, o, err);
}

static int put_row(struct buf *l, unsigned i, const struct member *m, struct px_err *err)
{
    // students are written as such, whatever title was drawn
    const char *title = m->work == W_STUDENT ? "Student" : k_titles[m->title].name;
    int rc = buf_printf(l, err, "LCU-%05u,%04d-%02d-%02d,%d,%s,%s,%d,%d,%s,%s,%s,%s,", 10001 + i,
                        m->since_y, m->since_m, m->since_d, m->age, m->sex_f ? "F" : "M",
                        k_marital[m->marital], m->household, m->kids, title, k_work[m->work],
                        k_states[m->state], k_home[m->home]);
    const double money[] = {m->earnings, m->deposits, m->certificates, m->home_loan, m->auto_loan};
    for (size_t k = 0; k < ARRAY_LEN(money) && rc == PX_OK; k++) {
        rc = put_money(l, money[k], err);
        if (rc == PX_OK) rc = buf_append(l, ",", 1, err);
    }
    if (rc == PX_OK) {
        rc = buf_printf(l, err, "%d,%s,%d%%,%d,", m->fico, k_cards[m->card], m->use_pct,
                        m->past_due);
    }
    const char *svc[11];
    size_t n_svc = 0;
    svc[n_svc++] = "Share Savings";
    if (m->svc_checking) svc[n_svc++] = "Checking";
    if (m->certificates > 0) svc[n_svc++] = "Share Certificate";
    if (m->svc_ira) svc[n_svc++] = "IRA";
    if (m->auto_loan > 0) svc[n_svc++] = "Auto Loan";
    if (m->home_loan > 0) svc[n_svc++] = "Home Loan";
    if (m->svc_heloc) svc[n_svc++] = "HELOC";
    if (m->card != 0) svc[n_svc++] = "Visa Card";
    if (m->svc_online) svc[n_svc++] = "Online Banking";
    if (m->svc_billpay) svc[n_svc++] = "Bill Pay";
    if (m->svc_direct) svc[n_svc++] = "Direct Deposit";
    for (size_t k = 0; k < n_svc && rc == PX_OK; k++) {
        rc = buf_printf(l, err, "%s%s", k ? "; " : "", svc[k]);
    }
    if (rc == PX_OK) rc = buf_append(l, ",", 1, err);
    bool first = true;
    for (size_t k = 0; k < ARRAY_LEN(k_goals) && rc == PX_OK; k++) {
        if (m->goals & (1u << k)) {
            rc = buf_printf(l, err, "%s%s", first ? "" : "; ", k_goals[k]);
            first = false;
        }
    }
    if (rc == PX_OK) {
        rc = buf_printf(l, err, ",%s,%s,%s\n", m->veteran ? "Y" : "N", m->paperless ? "Y" : "N",
                        k_branches[m->branch]);
    }
    return rc;
}

int qs_cu_write(const char *path, unsigned n_rows, uint64_t seed, struct px_err *err)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return px_fail(err, PX_EIO, "%s: %s", path, strerror(errno));
    }
    fputs("member_no,member_since,age_yrs,sex,marital,household_size,kids_at_home,"
          "occupation_title,work_status,state,home_status,household_earnings,deposit_total,"
          "share_certificates,home_loan_owed,auto_loan_owed,fico,card_type,credit_use_pct,"
          "days_past_due,services,goals,veteran,paperless,branch\n",
          f);
    struct buf line;
    buf_init(&line, 1 << 16);
    int rc = PX_OK;
    for (unsigned i = 0; i < n_rows && rc == PX_OK; i++) {
        struct rng r = {seed ^ (0x2545f4914f6cdd1dull * (uint64_t)(i + 1))};
        struct member m;
        draw_member(&r, &m);
        buf_reset(&line);
        rc = put_row(&line, i, &m, err);
        if (rc == PX_OK && fwrite(line.data, 1, line.len, f) != line.len) {
            rc = px_fail(err, PX_EIO, "%s: write failed", path);
        }
    }
    buf_free(&line);
    if (fclose(f) != 0 && rc == PX_OK) {
        rc = px_fail(err, PX_EIO, "%s: %s", path, strerror(errno));
    }
    return rc;
}
