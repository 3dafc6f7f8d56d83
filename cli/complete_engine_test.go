package cli

import (
	"context"
	"io"
	"slices"
	"testing"
)

// TestCompletionDescribesEngines: __describe gives each database its engine; __complete and
// urfave/cli's protocol keep to plain names.
func TestCompletionDescribesEngines(t *testing.T) {
	writeConfig(t, t.TempDir(), `environment eu-prod
    alias eu
    context gke_x
    namespace ns
    deployment dep
    database ledger
        alias lg
        engine postgres
        instance proj:europe-west1:ledger
    database payroll
        engine sqlserver
        instance proj:europe-west1:payroll
`)
	app := newApp(io.Discard, io.Discard)
	words := []string{"forward", "eu", ""}
	if got, want := describedCompletions(context.Background(), app, words), []string{"ledger\tpostgres", "lg\tpostgres", "payroll\tsqlserver"}; !slices.Equal(got, want) {
		t.Errorf("describedCompletions(%q) = %q, want %q", words, got, want)
	}
	if got, want := describedCompletions(context.Background(), app, []string{"forward", "na-prod", "b"}), []string{"bookkeeper\tmysql"}; !slices.Equal(got, want) {
		t.Errorf("describedCompletions(forward na-prod b) = %q, want %q", got, want)
	}
	if got, want := completions(context.Background(), app, words), []string{"ledger", "lg", "payroll"}; !slices.Equal(got, want) {
		t.Errorf("completions(%q) = %q, want %q", words, got, want)
	}
	for _, tt := range []struct {
		args      []string
		described bool
	}{
		{[]string{"rhizome", "__describe", "forward", ""}, true},
		{[]string{"rhizome", "__complete", "forward", ""}, false},
		{[]string{"rhizome", "forward", "--generate-bash-completion"}, false},
	} {
		if _, described, ok := completionRequest(tt.args); !ok || described != tt.described {
			t.Errorf("completionRequest(%q) described = %v, %v; want %v", tt.args, described, ok, tt.described)
		}
	}
}
