# rhizome's everyday commands. `just` comes from npm: npm i -g rust-just

version := `git describe --tags --always --dirty 2>/dev/null || echo dev`
ldflags := "-X github.com/rhizome-dev/rhizome/cli.Version=" + version

# Build ./rhizome.
build:
    go build -ldflags '{{ldflags}}' -o rhizome .

# The whole suite, as CI runs it (installs what the tests need first).
test *packages:
    scripts/test {{packages}}

# Benchmarks, compared side by side in one run (see BENCHMARKS.md).
bench:
    scripts/bench

# Install rhizome into $GOBIN (or ~/go/bin).
install:
    go install -ldflags '{{ldflags}}' .

# Format check and vet.
lint:
    test -z "$(gofmt -l .)" || (gofmt -l . && exit 1)
    go vet ./...

# The main job: a forward (simulated when no real cluster is configured).
demo:
    scripts/demo
