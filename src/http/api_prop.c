// api_prop.c — scoring with a propensity model over HTTP (README, "Propensity API"):
//
//   POST /api/models/{id}/score    rows in, probabilities, labels and reason codes out
//   POST /invocations              the same for the model of `serve --propensity-model REF`,
//                                  answered as MLflow's scoring server does ({"predictions"})
//
// Both take every form app_prop_data_request reads: application/json with dataframe_split,
// dataframe_records, instances, inputs (or {"rows"}) and optional "params" {"reasons",
// "potential", "top"}, or text/csv (a header row: the CSV drop on /models). The query string
// may give reasons (0..APP_REASONS_MAX, default APP_REASONS_DEFAULT), potential=1 and top=N
// too; params in the body win. The model's signature is enforced by the reader: a missing
// column, a mistyped value or a malformed form is a 400 naming it; too many rows a 413 (and a
// body past LIMIT_HTTP_SCORE_BODY never reaches here: the server answers 413). Nothing of the
// rows is kept: the answer is built, then the request's one audit row (model_score or
// model_invocations, the model's id as the query text; the rows come from the caller, not the
// customer book, so no customer ids are logged) is written, and only then is the answer sent.
// Which job /invocations does is the server's: a served propensity model, else the customer
// book's search (api_mlflow.c).
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"

static bool media(const char *ct, const char *type)
{
    if (ct == NULL) {
        return false;
    }
    while (*ct == ' ') {
        ct++;
    }
    size_t n = strlen(type);
    return strncasecmp(ct, type, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static int arg_size(const struct api_req *req, const char *key, size_t hi, size_t *v,
                    struct px_err *err)
{
    const char *s = api_req_arg(req, key);
    if (s == NULL) {
        return PX_OK;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (s[0] == '\0' || s[0] == '-' || *end != '\0' || errno != 0 || x > hi) {
        return px_fail(err, PX_EINVAL, "%s must be an integer in 0..%zu", key, hi);
    }
    *v = (size_t)x;
    return PX_OK;
}

// Reads the request's form and arguments into rq.
static int request_of(const struct api_req *req, struct api_res *res, struct app_score_request *rq,
                      struct px_err *err)
{
    memset(rq, 0, sizeof *rq);
    rq->reasons = APP_REASONS_DEFAULT;
    rq->body = req->body;
    rq->len = req->body_len;
    rq->csv = media(req->content_type, "text/csv");
    if (!rq->csv && !media(req->content_type, "application/json")) {
        res->status = 415;
        return px_fail(err, PX_EUNSUPPORTED, "Content-Type must be application/json or text/csv");
    }
    const char *pot = api_req_arg(req, "potential");
    if (pot != NULL) {
        if (strcmp(pot, "1") && strcmp(pot, "true") && strcmp(pot, "0") && strcmp(pot, "false")) {
            return px_fail(err, PX_EINVAL, "potential must be 1, true, 0 or false");
        }
        rq->score.potential = pot[0] == '1' || pot[0] == 't';
    }
    int rc = arg_size(req, "reasons", APP_REASONS_MAX, &rq->reasons, err);
    if (rc == PX_OK)
        rc = arg_size(req, "top", LIMIT_PROP_ROWS, &rq->score.top, err);
    return rc;
}

static int score(const struct api_req *req, struct api_res *res, const char *ref, bool mlflow,
                 const char *action, struct px_err *err)
{
    struct app_score_request rq;
    struct app_prop_handle *h = NULL;
    int rc = request_of(req, res, &rq, err);
    if (rc == PX_OK) {
        rc = app_prop_acquire(req->ctx->prop_cache, req->ctx->registry, ref, &h, err);
        rc = rc == PX_EINVAL ? PX_ENOENT : rc; // a missing or malformed reference: 404
    }
    if (rc == PX_OK) {
        rc = app_prop_handle_score_request(h, &rq, mlflow, &res->body, err);
        if (rc == PX_EINVAL || rc == PX_EFORMAT || rc == PX_EUTF8) {
            res->status = 400; // a bad row, column or value, named by the message
        } else if (rc == PX_ELIMIT) {
            res->status = 413;
        }
    }
    // the answer is discarded (an error body instead) if the audit row cannot be written
    if (rc == PX_OK)
        rc = api_audit(req, action, ref, strlen(ref), NULL, -1, err);
    app_prop_release(h);
    return rc;
}

int api_model_score(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    return score(req, res, req->id, false, "model_score", err);
}

int api_prop_invocations(const struct api_req *req, struct api_res *res, struct px_err *err)
{
    return score(req, res, req->ctx->prop_model, true, "model_invocations", err);
}
