// limits.h — every maximum in one place (SQLite's sqliteLimit.h is the model).
//
// Anything that can grow from input has a bound here; exceeding it is a clean PX_ELIMIT whose
// message names the limit. Keep the groups in layer order and say why each number was chosen.
#ifndef PX_LIMITS_H
#define PX_LIMITS_H

// ---- files ----
// A file system path, NUL included: Linux's PATH_MAX. The kernel refuses longer paths
// (ENAMETOOLONG), so every path buffer has this size (plus room for a suffix added to a path
// already within it); joining past it is a clean PX_ELIMIT (fsx_join).
#define LIMIT_PATH 4096
// config.json, tokenizer_config.json, modules.json ...: a few KiB in practice.
#define LIMIT_CONFIG_FILE_BYTES (1u << 20)
// tokenizer.json of a BERT model is ~0.5 MiB; multilingual vocabularies reach ~20 MiB.
#define LIMIT_TOKENIZER_FILE_BYTES (64u << 20)

// ---- safetensors ----
// The format itself caps the JSON header at 100 MB.
#define LIMIT_SAFETENSORS_HEADER_BYTES (100u * 1000u * 1000u)
#define LIMIT_SAFETENSORS_TENSORS 100000
#define LIMIT_TENSOR_RANK 8
#define LIMIT_TENSOR_NAME_BYTES 256

// ---- BERT config (sanity bounds, well above BERT-large) ----
#define LIMIT_BERT_HIDDEN 8192
#define LIMIT_BERT_LAYERS 128
#define LIMIT_BERT_HEADS 256
#define LIMIT_BERT_INTERMEDIATE 65536
#define LIMIT_BERT_POSITIONS 8192
#define LIMIT_BERT_VOCAB 1000000
#define LIMIT_BERT_TYPE_VOCAB 16

// ---- tokenizer ----
#define LIMIT_VOCAB_TOKENS 1000000
#define LIMIT_VOCAB_TOKEN_BYTES 1024
// BertTokenizer's max_input_chars_per_word: longer words become [UNK].
#define LIMIT_WORDPIECE_WORD_CHARS 100
// MiniLM was trained at 256 tokens and has 512 positions; no BERT we load has more than this.
#define LIMIT_SEQ_TOKENS 8192

// ---- embedding input ----
// One input text (one line of `prospect embed`): 1 MiB is far beyond any useful sentence, and
// everything past max_seq_length tokens is truncated anyway.
#define LIMIT_TEXT_BYTES (1u << 20)
// Whole input of one `prospect embed` run, read up front so npy can know its row count.
#define LIMIT_EMBED_INPUT_BYTES (4ull << 30)
#define LIMIT_EMBED_TEXTS 50000000u
#define LIMIT_BATCH 4096
#define LIMIT_THREADS 256

// ---- demo bank generator (src/data) ----
// Rows of one `prospect generate` run: 100 M rows is ~45 GB of CSV (twice what one import takes,
// LIMIT_CSV_ROWS); rows stream one at a time, so this bounds output size, not memory.
#define LIMIT_GENERATE_ROWS 100000000ull
// One generated CSV line: the longest possible row (every product, interest and life event) is
// under 1.5 KiB; the generator's stack line buffer has this size.
#define LIMIT_GENERATE_ROW_BYTES 4096

// ---- customer store and CSV import (src/store) ----
// One CSV field: 64 KiB holds any realistic cell (free-text notes included); libcsv's field
// buffer is checked against it after every line fed, so a runaway quote cannot grow unbounded.
#define LIMIT_CSV_FIELD_BYTES (64u << 10)
// One record (all fields): 1 MiB.
#define LIMIT_CSV_ROW_BYTES (1u << 20)
// Columns per file: wide exports reach a few hundred; SQLite's default SQLITE_MAX_COLUMN is 2000.
#define LIMIT_CSV_COLUMNS 1000
// Header names (bytes) and customer ids (bytes).
#define LIMIT_CSV_NAME_BYTES 256
#define LIMIT_CUSTOMER_ID_BYTES 256
// Data rows per import: 50 M customers is far beyond a bank's retail book.
#define LIMIT_CSV_ROWS 50000000u
// Distinct values a column may have and still be inferred 'category' (or distinct items of a
// 'list' column); above it the column is plain text.
#define LIMIT_CATEGORY_VALUES 100
// Row errors kept with their text in an import result (all are counted).
#define LIMIT_IMPORT_ERRORS_KEPT 1000
// Vector dimension stored per customer (MiniLM: 384; the largest sentence encoders: 4096).
#define LIMIT_VECTOR_DIM 8192

// ---- query parser (src/search/query) ----
// A query is typed by a person: 4 KiB is a long paragraph; more is a paste accident.
#define LIMIT_QUERY_BYTES 4096
// Filters + boosts of one plan (also the most filter clauses the search ANDs).
#define LIMIT_QUERY_ITEMS 64
// Values of one IN / NOT_IN filter ("Affluent or Private or Mass").
#define LIMIT_QUERY_FILTER_VALUES 16
// Items of one result's "why" / "shared" (filters + boosts + word hits, or shared traits).
#define LIMIT_WHY_ITEMS 24
// Columns of a query schema (LIMIT_CSV_COLUMNS), and values per categorical/list column.
#define LIMIT_QUERY_COLUMNS 1000
#define LIMIT_QUERY_VALUES 1000
// Distribution points of a numeric column (101 = every percentile).
#define LIMIT_QUERY_QUANTILES 101
// Bytes of a search engine's query-schema statistics (names, labels, distribution points,
// distinct values of every column), as built and as read from a book's index file
#define LIMIT_ENGINE_STATS_BYTES ((size_t)1 << 26)
// Words of one phrase (label, value, lexicon entry): longer ones are never typed whole.
#define LIMIT_QUERY_PHRASE_WORDS 12
#define LIMIT_QUERY_PHRASE_BYTES 256
// Did-you-mean suggestions kept for one not-understood span of a query plan.
#define LIMIT_QUERY_SUGGESTIONS 4
// Lexicon "readings": alternatives of one phrase, and constraints of one alternative.
#define LIMIT_LEXICON_READING_ALTS 6
#define LIMIT_LEXICON_READING_CONS 3
// The lexicon data file, and its entries (phrases) in all sections together.
#define LIMIT_LEXICON_BYTES (1u << 20)
#define LIMIT_LEXICON_ENTRIES 20000

// ---- lexical resources (src/lang) and the book's vocabulary (src/search/vocab) ----
// A word longer than this is its own stem and never a typo neighbour (nobody types 64 letters).
#define LIMIT_STEM_WORD_BYTES 64
// WordNet: a dictionary file larger than this is refused (data.noun is 15 MB).
#define LIMIT_WORDNET_FILE_BYTES (256u << 20)
// Synsets of one lemma read (index lines list at most a few dozen; "break" has 75 as a verb).
#define LIMIT_WORDNET_SENSES 128
// Words of one synset kept (w_cnt is two hex digits: at most 255 in the format).
#define LIMIT_WORDNET_WORDS 255
// Pointers of one synset kept (p_cnt is three digits: at most 999 in the format).
#define LIMIT_WORDNET_POINTERS 999
// One lemma or word as WordNet spells it ("united_states_of_america").
#define LIMIT_WORDNET_LEMMA_BYTES 128
// Base forms one inflected word can have (exceptions + detachment rules).
#define LIMIT_WORDNET_BASES 16
// Edit distance works on words of at most this many code points.
#define LIMIT_FUZZY_WORD_CHARS 64
// Vocabulary: keys (word forms, stems, relatives, typo variants) of one book.
#define LIMIT_VOCAB_KEYS (1u << 22)
// Candidates one phrase lookup returns, and did-you-mean suggestions for one word.
#define LIMIT_VOCAB_CANDIDATES 32
// Words of a phrase the vocabulary matches at once ("high net worth individual").
#define LIMIT_VOCAB_PHRASE_WORDS 4

// ---- vector index and lexical index (src/search) ----
// Row ids are bit positions in candidate bitmaps and index slots: 2^28 rows (268 M) is far past
// any customer base we serve, and keeps row * dim products well inside size_t.
#define LIMIT_VINDEX_ROWS (1u << 28)
// Embedding width; MiniLM is 384, the largest sentence-transformers are 4096.
#define LIMIT_VINDEX_DIM 4096
// Rows per chunk (a multiple of 64: a chunk's validity bitmap is whole words).
#define LIMIT_VINDEX_CHUNK_ROWS 65536
// Largest k of one search: results are returned in a caller array, a page is never this long.
#define LIMIT_VINDEX_K 10000
// Largest re-scoring pool per search (rows re-scored in f32 after the int4 scan).
#define LIMIT_VINDEX_RESCORE (1u << 20)
// Bits of one candidate bitmap (one bit per row id).
#define LIMIT_BITMAP_BITS LIMIT_VINDEX_ROWS
// BM25: documents (doc ids are bit positions too), distinct terms, one term's bytes (longer
// words are cut, as no customer-profile word is this long), terms per document and per query.
#define LIMIT_BM25_DOCS LIMIT_VINDEX_ROWS
#define LIMIT_BM25_TERMS 50000000u
#define LIMIT_BM25_TERM_BYTES 64
#define LIMIT_BM25_DOC_TERMS 100000
#define LIMIT_BM25_QUERY_TERMS 64
// Ranked lists fused by one call, and entries per list.
#define LIMIT_FUSE_LISTS 8
#define LIMIT_FUSE_ITEMS 1000000

// Query vectors a book keeps (the semantic text's embedding, reused when the same text comes
// again: sample queries, a chip removed on the page, paging). 256 x 384 floats = 384 KB.
#define LIMIT_QUERY_CACHE 256

// ---- HTTP server (src/http) ----
// One request body: an MLflow batch of LIMIT_HTTP_QUERIES queries of LIMIT_QUERY_BYTES fits.
#define LIMIT_HTTP_BODY (1u << 20)
// Rows of one propensity scoring request (POST /api/models/{id}/score, a served model's
// /invocations, the CSV drop on /models).
#define LIMIT_PROP_ROWS 10000
// The body of a propensity scoring request (the CSV drop: 10,000 rows of ~40 columns ~ 3 MB);
// past it the server answers 413 before the handler runs.
#define LIMIT_HTTP_SCORE_BODY (4u << 20)
// `prospect serve --propensity-data NAME=FILE` options (a data set per model).
#define LIMIT_HTTP_PROP_DATA 16
// The propensity routes' cache (app/propcache.c): loaded models (each with the server's data set
// applied to its spec and its SHAP values: 5,000 rows x ~14 features ~ 0.6 MB) and profile-text
// vector sets (5,000 rows x 384 floats = 7.7 MB each), least recently used dropped first.
#define LIMIT_PROP_CACHE_MODELS 4
#define LIMIT_PROP_CACHE_VECTORS 4
// One response body (a page of search results with whole rows).
#define LIMIT_HTTP_RESPONSE (64u << 20)
// Queries in one POST /invocations.
#define LIMIT_HTTP_QUERIES 64
// Results per query over HTTP (top / top_n).
#define LIMIT_HTTP_TOP 1000
// Simultaneous connections (well above what LIMIT_HTTP_PER_IP lets a few addresses hold; the
// server lowers it to fit RLIMIT_NOFILE), MHD's per-connection memory (headers, not our body
// buffer), idle timeout, and worker threads.
#define LIMIT_HTTP_CONNECTIONS 1024
#define LIMIT_HTTP_CONN_MEMORY (64u << 10)
#define LIMIT_HTTP_TIMEOUT_S 30
#define LIMIT_HTTP_THREADS 64
// Connections one client address may hold at once (MHD's per-IP limit; a browser opens <= 6 per
// origin), and --allowed-host names.
#define LIMIT_HTTP_PER_IP 32
#define LIMIT_HTTP_ALLOWED_HOSTS 16
// Absolute deadlines (not reset by each byte, unlike the idle timeout): a request's headers
// must arrive within LIMIT_HTTP_HEADER_S of the connection opening or the previous answer
// finishing (LIMIT_HTTP_HEADER_BUSY_S while more than 3/4 of the connections are open), its
// body within LIMIT_HTTP_BODY_S of the headers; else the server closes the connection.
#define LIMIT_HTTP_HEADER_S 10
#define LIMIT_HTTP_HEADER_BUSY_S 2
#define LIMIT_HTTP_BODY_S 30
// Requests waiting for a worker beyond those running (more: 503), and request bodies buffered
// at once over all connections (more: 503).
#define LIMIT_HTTP_QUEUE 64
#define LIMIT_HTTP_BODIES_TOTAL (64u << 20)
// Request budget of one API key, or of one client address without a key: a token bucket of
// LIMIT_HTTP_BURST requests refilled at LIMIT_HTTP_RATE per second (more: 429), over at most
// LIMIT_HTTP_BUDGETS clients tracked at once.
#define LIMIT_HTTP_RATE 50
#define LIMIT_HTTP_BURST 200
#define LIMIT_HTTP_BUDGETS 1024
// Query-string arguments kept per request (more are ignored), and bytes of a path parameter.
#define LIMIT_HTTP_ARGS 16
#define LIMIT_HTTP_PARAM_BYTES 256
// Routes in the table (metrics keep one counter set per route).
#define LIMIT_HTTP_ROUTES 48

// ---- API keys and the audit log (store, app/access.c) ----
// Bytes of a key's name ("rm-desk-3"): a label for people, never a secret.
#define LIMIT_KEY_NAME 64
// Active keys one database may hold (each is checked by id, so this only bounds `keys list`).
#define LIMIT_KEYS 10000
// Rows `prospect audit` returns per call (--limit), and one row's id list in bytes.
#define LIMIT_AUDIT_ROWS 1000000
#define LIMIT_AUDIT_IDS_BYTES (4u << 20)

// ---- model bundles and the registry (src/registry) ----
// Bytes of a registered name (a path component: [A-Za-z0-9_.-], not starting with '.').
#define LIMIT_BUNDLE_NAME_BYTES 100
// Bytes of a file's path inside a bundle, and directory depth ("model/1_Pooling/config.json").
#define LIMIT_BUNDLE_PATH_BYTES 255
#define LIMIT_BUNDLE_DEPTH 8
// Files in one bundle, bytes of its manifest.json / bundle.json, and bytes of all its files.
#define LIMIT_BUNDLE_FILES 4096
#define LIMIT_BUNDLE_MANIFEST_BYTES (4u << 20)
#define LIMIT_BUNDLE_BYTES (1ull << 40)
// Versions of one name (version numbers are 1..this), aliases (stages) per name, and names in
// one registry.
#define LIMIT_REGISTRY_VERSIONS 1000000
#define LIMIT_REGISTRY_ALIASES 16
#define LIMIT_REGISTRY_ALIAS_BYTES 32
#define LIMIT_REGISTRY_NAMES 100000

// ---- wholesale book, recommendations, segments (src/data/wholesale, src/nn/gat, src/ml) ----
// The wholesale generator builds its whole book in memory (ids are drawn once, transactions are
// sorted by date): 1 M clients, 100 k products and 50 M transactions is ~2 GB.
#define LIMIT_WHOLESALE_CUSTOMERS 1000000u
#define LIMIT_WHOLESALE_PRODUCTS 100000u
#define LIMIT_WHOLESALE_TRANSACTIONS 50000000ull
// Recommender: nodes (customers + products), distinct customer-product edges, input features,
// attention heads, hidden width, and training epochs.
#define LIMIT_REC_NODES 2000000u
#define LIMIT_REC_EDGES 50000000u
#define LIMIT_REC_FEATURES 20000
#define LIMIT_GAT_HEADS 16
#define LIMIT_GAT_WIDTH 1024
#define LIMIT_REC_EPOCHS 100000
// Products returned per customer (--top).
#define LIMIT_REC_TOP 1000
// k-means: clusters (k, or the top of --k-range), rows and dimensions, restarts, iterations.
#define LIMIT_KMEANS_K 256
#define LIMIT_KMEANS_ROWS 50000000u
#define LIMIT_KMEANS_DIM 4096
#define LIMIT_KMEANS_RESTARTS 100
#define LIMIT_KMEANS_ITERS 10000

// The page's customer-product graph (app/recommend.c): customers per answer (?limit), and edges
// per answer (further customers are left out and the answer says "truncated").
#define LIMIT_GRAPH_CUSTOMERS 500
#define LIMIT_GRAPH_EDGES 5000
// Traits listed per segment (GET /api/segments).
#define LIMIT_SEGMENT_TRAITS 3

// Saved searches (issue 15): per owner, a name's bytes, the query's matches kept when it has no
// hard filter (the first page of its ranking), feedback ids per direction, and webhooks: a URL's
// bytes and the attempts per delivery.
#define LIMIT_SAVED_SEARCHES 1000
#define LIMIT_SAVED_NAME 100
#define LIMIT_SAVED_TOP_MATCHES 100
#define LIMIT_SAVED_JSON_BYTES (64u << 10)
#define LIMIT_FEEDBACK_IDS 50
// Feedback re-ranks the best LIMIT_FEEDBACK_POOL candidates of the search; a category column
// gives at most LIMIT_FEEDBACK_VALUES one-hot features (book_feedback.c).
#define LIMIT_FEEDBACK_POOL 1000
#define LIMIT_FEEDBACK_VALUES 64
#define LIMIT_WEBHOOK_URL 2000
#define LIMIT_WEBHOOK_ATTEMPTS 5
// A report's audit row lists every customer written (ids as a JSON array).
#define LIMIT_REPORT_IDS_BYTES (256u << 20)

#endif
