#!/usr/bin/python3
"""Train, export and verify the `faq` reference model.

    /usr/bin/python3 tools/train_faq.py

Reads tools/faq/faq.jsonl, holds out a seeded, per-entry-stratified slice of the
duplicate questions for testing, fits TF-IDF (word 1-2 grams) + multinomial
logistic regression on the remaining questions plus each entry's answer, and
writes an ONNX graph built by hand with onnx.helper (skl2onnx is not available
here). The graph is checked against scikit-learn with onnxruntime-node
(tools/faq/check_onnx.mjs) before any artifact is written.
"""
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

SEED = 1729
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tools" / "faq" / "faq.jsonl"
METRICS = ROOT / "tools" / "faq" / "metrics.json"
CHECK_SCRIPT = ROOT / "tools" / "faq" / "check_onnx.mjs"
TEST_SPLIT = ROOT / "test" / "fixtures" / "faq" / "test-split.jsonl"
MODEL_DIR = ROOT / "models" / "faq"

TEST_FRACTION = 0.25
MIN_TEST_PER_ENTRY = 2
C_GRID = [1, 10, 100, 1000]  # CV gains flatten out above 1000
# Words plus the JS operators people type in questions ("== vs ===", "?? vs ||",
# "=> vs function", "...args"), which plain \w tokenisation would throw away.
# Only constructs that Python's re and RE2 (used by the ORT Tokenizer) treat
# identically: character classes, literals, ? and leftmost-first alternation.
TOKEN_PATTERN = r"[a-z0-9_$]+|[=!]==?|=>|\?\?=?|\?\.|\|\||&&|\.\.\."
PAD = "#"  # Tokenizer pad value: never matches TOKEN_PATTERN, so never an n-gram
MAX_ABS_DIFF = 1e-4
# Inputs that stress the text pipeline beyond the test split: empty / token-less
# strings (zero TF-IDF vector, Tokenizer emits a [N, 0] tensor), case folding,
# non-ASCII, operators, and a long input that forces heavy padding in its batch.
# Known divergence, deliberately not listed: U+0130 (capital I with dot). Python's
# str.lower() gives "i" + U+0307, splitting "Istanbul" into "i", "stanbul", while
# ORT lowercases with towlower to a plain "i". It is the only character whose
# lowercase differs in a way that changes tokens (U+212A KELVIN agrees: "k").
EDGE_CASES = [
    "", "   ", "?!#@", "HOW DO I DEEP CLONE AN OBJECT", "== vs === vs !==",
    "a ?? b || c && d?.e ...rest => x", "Ça marche pas: café, naïve, ÜBER, straße",
    "KELVIN \u212a sign, Σίσυφος", "sort " * 200, "$ ${} _.debounce __proto__",
]


def load_entries():
    with DATA.open(encoding="utf-8") as f:
        entries = [json.loads(line) for line in f if line.strip()]
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "duplicate entry ids"
    return entries


def split(entries, seed):
    """Canonical question always trains; each entry gives max(2, 25%) of its
    duplicates to test, so every class is evaluated on unseen phrasings."""
    rng = random.Random(seed)
    train, test = [], []
    for e in entries:
        dups = list(e["duplicates"])
        rng.shuffle(dups)
        n_test = max(MIN_TEST_PER_ENTRY, int(TEST_FRACTION * len(dups) + 0.5))
        test += [(t, e["id"]) for t in dups[:n_test]]
        train += [(t, e["id"]) for t in [e["question"]] + dups[n_test:]]
    return train, test


def make_pipeline():
    # norm='l2', plain tf, smooth idf: all reproduced exactly in the ONNX graph.
    vec = TfidfVectorizer(lowercase=True, ngram_range=(1, 2), token_pattern=TOKEN_PATTERN,
                          norm="l2", use_idf=True, smooth_idf=True, sublinear_tf=False)
    clf = LogisticRegression(multi_class="multinomial", solver="lbfgs", max_iter=5000,
                             random_state=SEED)
    return Pipeline([("tfidf", vec), ("clf", clf)])


def train(rows, extra_rows):
    """Pick C by stratified CV over the training questions only; the vectoriser is
    refit per fold. extra_rows (the answers) are in the fitting part of every fold
    and never scored: they add vocabulary, but are not questions users would ask."""
    texts, labels = map(list, zip(*(rows + extra_rows)))
    n = len(rows)
    folds = StratifiedKFold(n_splits=4, shuffle=True, random_state=SEED).split(
        texts[:n], labels[:n])
    always = list(range(n, len(texts)))
    cv = [(list(fit) + always, list(val)) for fit, val in folds]
    search = GridSearchCV(make_pipeline(), {"clf__C": C_GRID}, cv=cv, scoring="accuracy")
    search.fit(texts, labels)
    for c, score in zip(C_GRID, search.cv_results_["mean_test_score"]):
        print(f"  C={c:<5} cv accuracy@1 {score:.4f}")
    return search.best_estimator_, search.best_params_["clf__C"], search.best_score_


def build_onnx(pipe):
    vec, clf = pipe.named_steps["tfidf"], pipe.named_steps["clf"]
    vocab = vec.vocabulary_
    # TfIdfVectorizer pool: all 1-grams, then all 2-grams as consecutive token
    # pairs; ngram_counts gives where each n-gram length starts in the pool.
    unigrams = sorted(t for t in vocab if " " not in t)
    bigrams = sorted(t for t in vocab if " " in t)
    assert all(len(b.split(" ")) == 2 for b in bigrams)
    pool = unigrams + [tok for b in bigrams for tok in b.split(" ")]
    indexes = [vocab[t] for t in unigrams + bigrams]
    idf = vec.idf_.astype(np.float32)
    coef = clf.coef_.astype(np.float32).T  # [V, K]
    intercept = clf.intercept_.astype(np.float32)
    num_classes = coef.shape[1]
    assert num_classes == len(clf.classes_) > 2  # binary LR would have a single coef row

    nodes = [
        # locale: ORT's default en_US.UTF-8 is missing on many hosts and then the
        # session fails to load; C.UTF-8 is always there and lowercases ASCII.
        helper.make_node("StringNormalizer", ["text"], ["lowered"],
                         case_change_action="LOWER", is_case_sensitive=0, locale="C.UTF-8"),
        # Output [N, max tokens in batch]; short rows are padded with PAD.
        helper.make_node("Tokenizer", ["lowered"], ["tokens"], domain="com.microsoft",
                         tokenexp=TOKEN_PATTERN, mark=0, mincharnum=1, pad_value=PAD),
        helper.make_node("TfIdfVectorizer", ["tokens"], ["tfidf"], mode="TFIDF",
                         min_gram_length=1, max_gram_length=2, max_skip_count=0,
                         ngram_counts=[0, len(unigrams)], ngram_indexes=indexes,
                         pool_strings=pool, weights=idf[indexes].tolist()),
        # The ONNX op does not normalise; sklearn's l2 norm leaves zero rows at 0,
        # which x / max(||x||, eps) reproduces without dividing by zero.
        helper.make_node("ReduceL2", ["tfidf"], ["norm"], axes=[1], keepdims=1),
        helper.make_node("Max", ["norm", "eps"], ["safe_norm"]),
        helper.make_node("Div", ["tfidf", "safe_norm"], ["features"]),
        # features · coef, reading only the coef rows of the n-grams present: a question has a
        # dozen of them, and a dense MatMul would stream all of coef ([V, K], ~1.5 MB) per
        # request, mostly from memory on a busy machine. (row, col) of each non-zero feature:
        helper.make_node("NonZero", ["features"], ["nz"]),
        helper.make_node("Transpose", ["nz"], ["nz_pairs"], perm=[1, 0]),
        helper.make_node("GatherND", ["features", "nz_pairs"], ["nz_values"]),
        helper.make_node("Gather", ["nz", "zero"], ["nz_rows"], axis=0),
        helper.make_node("Gather", ["nz", "one"], ["nz_cols"], axis=0),
        # Each non-zero feature's value times its coef row, summed into its input's logits.
        helper.make_node("Gather", ["coef", "nz_cols"], ["nz_coef"], axis=0),
        helper.make_node("Unsqueeze", ["nz_values", "last_axis"], ["nz_values_col"]),
        helper.make_node("Mul", ["nz_coef", "nz_values_col"], ["nz_terms"]),
        helper.make_node("Unsqueeze", ["nz_rows", "last_axis"], ["nz_rows_col"]),
        helper.make_node("Shape", ["features"], ["batch"], start=0, end=1),
        helper.make_node("Concat", ["batch", "num_classes"], ["logits_shape"], axis=0),
        helper.make_node("ConstantOfShape", ["logits_shape"], ["no_logits"],
                         value=helper.make_tensor("zero_f", TensorProto.FLOAT, [1], [0.0])),
        helper.make_node("ScatterND", ["no_logits", "nz_rows_col", "nz_terms"], ["logits_raw"],
                         reduction="add"),
        helper.make_node("Add", ["logits_raw", "intercept"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1),
    ]
    inits = [
        numpy_helper.from_array(np.array([1e-12], dtype=np.float32), "eps"),
        numpy_helper.from_array(coef, "coef"),
        numpy_helper.from_array(intercept, "intercept"),
        numpy_helper.from_array(np.array(0, dtype=np.int64), "zero"),
        numpy_helper.from_array(np.array(1, dtype=np.int64), "one"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "last_axis"),
        numpy_helper.from_array(np.array([num_classes], dtype=np.int64), "num_classes"),
    ]
    graph = helper.make_graph(
        nodes, "faq", [helper.make_tensor_value_info("text", TensorProto.STRING, ["N"])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", num_classes])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="switchyard tools/train_faq.py",
                              opset_imports=[helper.make_opsetid("", 17),
                                             helper.make_opsetid("com.microsoft", 1)])
    helper.set_model_props(model, {"token_pattern": TOKEN_PATTERN,
                                   "labels": json.dumps([str(c) for c in clf.classes_])})
    onnx.checker.check_model(model)
    return model


def run_ort(model_path, texts, batch_sizes, tmp):
    inputs, outputs = Path(tmp) / "inputs.json", Path(tmp) / "outputs.json"
    inputs.write_text(json.dumps(texts), encoding="utf-8")
    subprocess.run(["node", str(CHECK_SCRIPT), str(model_path), str(inputs), str(outputs),
                    ",".join(map(str, batch_sizes))], check=True, cwd=ROOT)
    result = json.loads(outputs.read_text(encoding="utf-8"))
    return {int(bs): np.array(rows, dtype=np.float64) for bs, rows in result.items()}


def verify(model_path, pipe, texts, tmp):
    """Fail loudly unless ORT matches sklearn, batched and one string at a time."""
    expected = pipe.predict_proba(texts)
    got = run_ort(model_path, texts, [7, 64, 1], tmp)
    diffs = {bs: float(np.abs(p - expected).max()) for bs, p in got.items()}
    batch_vs_single = max(float(np.abs(got[bs] - got[1]).max()) for bs in (7, 64))
    print(f"ORT vs sklearn max |diff| by batch size: {diffs}; batched vs unbatched: "
          f"{batch_vs_single:.2e}")
    if max(diffs.values()) > MAX_ABS_DIFF or batch_vs_single > MAX_ABS_DIFF:
        sys.exit(f"FAILED: ONNX output differs from sklearn (limit {MAX_ABS_DIFF})")
    top_sk, top_ort = expected.argmax(1), got[7].argmax(1)
    if (top_sk != top_ort).any():
        sys.exit(f"FAILED: top-1 differs for {int((top_sk != top_ort).sum())} inputs")
    return got[7], max(diffs.values()), batch_vs_single


def rank_metrics(proba, labels, classes):
    index = {c: i for i, c in enumerate(classes)}
    y = np.array([index[l] for l in labels])
    true_p = proba[np.arange(len(y)), y]
    ranks = 1 + (proba > true_p[:, None]).sum(axis=1)  # 1 = best
    return {f"accuracy@{k}": round(float((ranks <= k).mean()), 4) for k in (1, 3, 5)} | {
        "mean_rank": round(float(ranks.mean()), 4),
        "mrr": round(float((1.0 / ranks).mean()), 4),
    }


CONFIG_TEMPLATE = """\
# FAQ matching: TF-IDF (word 1-2 grams) + logistic regression, trained by tools/train_faq.py
platform: onnxruntime_onnx
max_batch_size: 64
dynamic_batching:
  max_queue_delay_ms: 0
instance:
  device: cpu
  intra_op_threads: 1
queue_policy:
  max_queue_size: 2000
  default_timeout_ms: 10000
input:
  - name: text
    datatype: BYTES
    dims: []
output:
  - name: probabilities
    datatype: FP32
    dims: [{num_classes}]
handler:
  kind: text-classification
  input: text
  output: probabilities
  labels: labels.json
  top_k: 5
"""


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_artifacts(model_file, entries, classes, test):
    by_id = {e["id"]: e for e in entries}
    (MODEL_DIR / "1").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_file, MODEL_DIR / "1" / "model.onnx")
    labels = [{"label": c, "id": c, "question": by_id[c]["question"],
               "answer": by_id[c]["answer"]} for c in classes]
    (MODEL_DIR / "labels.json").write_text(
        json.dumps(labels, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (MODEL_DIR / "config.yaml").write_text(
        CONFIG_TEMPLATE.format(num_classes=len(classes)), encoding="utf-8")
    write_jsonl(TEST_SPLIT, [{"text": t, "id": i} for t, i in test])


def main():
    entries = load_entries()
    train_rows, test_rows = split(entries, SEED)
    n_dups = sum(len(e["duplicates"]) for e in entries)
    print(f"{len(entries)} entries, {n_dups} duplicates: {len(train_rows)} train questions "
          f"(incl. canonical) + {len(entries)} answers, {len(test_rows)} test questions")

    # Each answer is one more training document for its entry: CV on the training
    # split showed about +5 points accuracy@1 from the extra vocabulary.
    answer_rows = [(e["answer"], e["id"]) for e in entries]
    pipe, best_c, cv_score = train(train_rows, answer_rows)
    classes = [str(c) for c in pipe.named_steps["clf"].classes_]
    vocab_size = len(pipe.named_steps["tfidf"].vocabulary_)
    print(f"chose C={best_c} (cv accuracy@1 {cv_score:.4f}); vocabulary {vocab_size} n-grams")

    test_texts, test_labels = map(list, zip(*test_rows))
    with tempfile.TemporaryDirectory() as tmp:
        model_file = Path(tmp) / "model.onnx"
        onnx.save(build_onnx(pipe), model_file)
        proba, max_diff, batch_diff = verify(model_file, pipe, test_texts + EDGE_CASES, tmp)
        metrics = rank_metrics(proba[:len(test_texts)], test_labels, classes)
        write_artifacts(model_file, entries, classes, test_rows)

    metrics |= {"n_test": len(test_texts), "n_train": len(train_rows) + len(answer_rows),
                "n_classes": len(classes),
                "vocabulary_size": vocab_size, "C": best_c, "cv_accuracy@1": round(cv_score, 4),
                "ort_vs_sklearn_max_abs_diff": float(f"{max_diff:.3g}"),
                "ort_batched_vs_unbatched_max_abs_diff": float(f"{batch_diff:.3g}"),
                "seed": SEED}
    METRICS.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    print("held-out duplicates (onnxruntime-node output):")
    for k in ("accuracy@1", "accuracy@3", "accuracy@5", "mean_rank", "mrr"):
        print(f"  {k:<11} {metrics[k]}")


if __name__ == "__main__":
    main()
