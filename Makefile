# make compare : set up, then train and compare a CKAN and its parameter-matched CNN twin on Fashion-MNIST (table + plots in runs/compare)
# make setup   : create .venv with torch, the library (editable) and the dev tools
# make test    : set up, then run every notebook's tests the nbdev way (nbdev_test's runner; `make test-slow` adds the long runs)
# make test TEST_ARGS="--record-times benchmarks/results/notebook_times.json" : also record each notebook's test time (the index shows them)
# make export  : notebooks -> ckan_nb/ and clean notebook metadata (run before every commit)
# make readme  : regenerate README.md from nbs/index.ipynb (no Quarto needed)
# make docs    : offline docs check (needs Debian pandoc, libjs-mathjax, chromium)
# make bench   : run the benchmarks in benchmarks/
# make users   : build the wheel, install it in a fresh venv (runtime requirements only), call its public API and CLI, run chapters as in Colab
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin

.PHONY: compare setup test test-slow export readme docs bench users

setup: $(VENV)/.ckan_nb_ready

$(VENV)/.ckan_nb_ready: settings.ini setup.py tools/setup.sh
	VENV=$(VENV) bash tools/setup.sh
	touch $@

compare: setup
	$(PY) -m ckan_nb.benchmark --dataset fashion_mnist --models ckan_small cnn_small_prelu --epochs 3 --train-size 10000 --lr 1e-2 --spline-lr 1e-2 --out runs/compare

test: setup
	$(PY) tools/run_tests.py $(TEST_ARGS)

test-slow: setup
	$(PY) tools/run_tests.py --flags slow

export: setup
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean

readme: setup
	$(PY) tools/docs.py readme

docs: setup
	bash tools/check_docs.sh

bench: setup
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f; done

users:
	bash tools/check_wheel.sh all
