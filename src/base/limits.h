// limits.h — every maximum in one place (SQLite's sqliteLimit.h is the model).
//
// Anything that can grow from input has a bound here; exceeding it is a clean PX_ELIMIT whose
// message names the limit. Keep the groups in layer order and say why each number was chosen.
#ifndef PX_LIMITS_H
#define PX_LIMITS_H

// ---- files ----
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

#endif
