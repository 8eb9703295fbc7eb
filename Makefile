# Front door (STYLE.md B7): meson + ninja do the work.
#   make          build ./build/ember
#   make run      install missing packages, build, run the server on :4040 with ./data
#   make test     install missing packages, build, run every suite (unit, fuzz corpora,
#                 integration, e2e, and all of it again under ASan+UBSan); prints its time
#   make bench    print performance figures
#   make fuzz     run every libFuzzer target for FUZZ_SECONDS each (clang)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: all deps run test asan bench fuzz clean

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

deps:
	./scripts/deps.sh

run: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) ember
	./$(BUILD)/ember server $(ARGS)

test:
	./scripts/test.sh

asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	./scripts/test.sh --asan-only

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

bench: deps all
	./bench/run.sh

fuzz: deps
	./scripts/fuzz.sh $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
