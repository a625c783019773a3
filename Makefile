# hone: `make demo` (the main job) and `make test` (everything CI runs). Both install what is missing.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)
SLURM_DIR ?= /tmp/hone-slurm-tests

.PHONY: deps build release demo test test-swift test-python test-fuzz fuzz fuzz-build fuzz-corpus slurm-start slurm-stop bench clean

deps:
	@scripts/install-deps.sh

build: deps
	swift build

release: deps
	swift build -c release --static-swift-stdlib

# make demo EXAMPLE=lora: the LoRA example (transformers + PEFT on the CPU) instead of the quickstart.
EXAMPLE ?= quickstart
demo: release
	@EXAMPLE=$(EXAMPLE) scripts/demo.sh

# Tests need an identity for the git CLI that builds fixtures, and a real Slurm cluster.
test: deps
	@scripts/install-deps.sh --test
	swift build --build-tests
	@HONE_SLURM_DIR=$(SLURM_DIR) scripts/slurm-cluster.sh start || { echo "*** could not start the test Slurm cluster: the Slurm tests will fail ***"; }
	@set -o pipefail; status=0; \
	  export GIT_AUTHOR_NAME="hone tests" GIT_AUTHOR_EMAIL=tests@localhost GIT_COMMITTER_NAME="hone tests" GIT_COMMITTER_EMAIL=tests@localhost; \
	  export HONE_SLURM_TEST_DIR=$(SLURM_DIR) SLURM_CONF=$(SLURM_DIR)/slurm.conf; \
	  swift test --skip-build --disable-swift-testing 2>&1 | tee .build/swift-test.log || status=1; \
	  $(MAKE) --no-print-directory test-python 2>&1 | tee .build/python-test.log || status=1; \
	  $(MAKE) --no-print-directory test-fuzz 2>&1 | tee .build/fuzz-test.log || status=1; \
	  HONE_SLURM_DIR=$(SLURM_DIR) scripts/slurm-cluster.sh stop >/dev/null 2>&1 || true; \
	  scripts/test-summary.py .build/swift-test.log .build/python-test.log || status=1; \
	  exit $$status

# The handler kit's and the LoRA example's tests run in the ML venv (torch, transformers) when scripts/ml-venv.sh made one (make test
# does): there its Trainer tests must run (HONE_REQUIRE_ML=1); without it they are skipped, with the reason.
test-python:
	cd examples/quickstart && python3 -m pytest -q tests
	@if py=$$(scripts/ml-venv.sh python); then \
	  echo "HONE_REQUIRE_ML=1 $$py -m pytest -q python/hone_job/tests examples/lora/tests"; \
	  HONE_REQUIRE_ML=1 $$py -m pytest -q python/hone_job/tests examples/lora/tests; \
	else \
	  echo "no ML venv (scripts/ml-venv.sh install makes it): the Trainer and LoRA tests are skipped"; \
	  python3 -m pytest -q -rs python/hone_job/tests examples/lora/tests; \
	fi
	@if [ -f specs/check_schemas.py ]; then python3 specs/check_schemas.py; fi
	@if [ -f specs/test_schemas.py ]; then python3 -m pytest -q specs/test_schemas.py; fi
	python3 -m pytest -q specs/test_no_outside_contract.py

# Fuzzing (libFuzzer through swiftc -sanitize=fuzzer) in its own scratch path, so the normal build
# is untouched. `make fuzz FUZZ_TIME=600` fuzzes each target that long; `make test` runs test-fuzz:
# every committed input replayed through the normal build (crash reproducers in fuzz/regressions
# stay fixed), then a short real fuzz.
FUZZ_TIME ?= 60
FUZZ_SMOKE_TIME ?= 10
FUZZ_SCRATCH ?= .build-fuzz
FUZZ_FLAGS := -c release -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

fuzz-build: deps
	swift build --scratch-path $(FUZZ_SCRATCH) $(FUZZ_FLAGS) --product hone-fuzz-spec
	swift build --scratch-path $(FUZZ_SCRATCH) $(FUZZ_FLAGS) --product hone-fuzz-status

fuzz: fuzz-build
	@FUZZ_BIN=$(FUZZ_SCRATCH)/release scripts/fuzz.sh $(FUZZ_TIME)

fuzz-corpus:
	@scripts/fuzz-corpus.py

test-fuzz:
	swift build --product hone-fuzz-spec && swift build --product hone-fuzz-status
	.build/debug/hone-fuzz-spec fuzz/corpus/spec fuzz/regressions/spec
	.build/debug/hone-fuzz-status fuzz/corpus/status fuzz/regressions/status
	@FUZZ_SEED=1 $(MAKE) --no-print-directory fuzz FUZZ_TIME=$(FUZZ_SMOKE_TIME)

bench: release
	@for b in bench/*.sh; do [ -x "$$b" ] && "$$b"; done

clean:
	rm -rf .build .build-fuzz
