# rhizome's everyday commands. `just` comes from npm: npm i -g rust-just

version := `git describe --tags --always --dirty 2>/dev/null || echo dev`
ldflags := "-X github.com/rhizome-dev/rhizome/cli.Version=" + version
# A static binary (no cgo: no dynamic loader at each start) without urfave/cli's man-page
# generator, which rhizome never calls but whose markdown library costs 0.4 ms of init per run.
# Together they take a third off `rhizome ps` (BENCHMARKS.md). Tests keep cgo: -race needs it.
buildflags := "-tags urfave_cli_no_docs"

# Build ./rhizome.
build:
    CGO_ENABLED=0 go build {{buildflags}} -ldflags '{{ldflags}}' -o rhizome .

# The whole suite, as CI runs it (installs what the tests need first).
test *packages:
    scripts/test {{packages}}

# Benchmarks, compared side by side in one run (see BENCHMARKS.md).
bench:
    scripts/bench

# Install rhizome into $GOBIN (or ~/go/bin).
install:
    CGO_ENABLED=0 go install {{buildflags}} -ldflags '{{ldflags}}' .

# Format check and vet.
lint:
    test -z "$(gofmt -l .)" || (gofmt -l . && exit 1)
    go vet ./...

# The main job: a forward (simulated when no real cluster is configured).
demo:
    scripts/demo
