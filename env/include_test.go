package env

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name → text under dir and returns dir.
func writeFiles(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadWith sets up a home and config directory with files (paths relative to the home; the
// config is .config/rhizome/config) and returns Load's result and the home.
func loadWith(t *testing.T, files map[string]string) (*Catalog, string, error) {
	t.Helper()
	home := writeFiles(t, t.TempDir(), files)
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	c, err := Load()
	return c, home, err
}

const teamEnv = `environment %s
    context gke_team_us-central1_c
    namespace ns
    deployment dep
    database db
        instance proj:us-central1:db
`

func envText(name string) string { return strings.ReplaceAll(teamEnv, "%s", name) }

func TestIncludeReadsFilesWhereTheySay(t *testing.T) {
	c, home, err := loadWith(t, map[string]string{
		".config/rhizome/config": "include team.conf\n" +
			"include ~/repo/envs/*.conf   # a team's repository\n" +
			"include nothing-here/*.conf\n" +
			"environment na-prod\n    database ledger\n        instance p:us-central1:ledger\n",
		".config/rhizome/team.conf": envText("team"),
		"repo/envs/a.conf":          envText("alpha"),
		"repo/envs/b.conf":          "include ../shared/beta\n",
		"repo/shared/beta":          envText("beta"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Names(), ","); got != "alpha,beta,na-prod,team" {
		t.Fatalf("Names() = %q, want alpha,beta,na-prod,team", got)
	}
	for name, want := range map[string]string{
		"team":    filepath.Join(home, ".config/rhizome/team.conf") + ":1",
		"alpha":   filepath.Join(home, "repo/envs/a.conf") + ":1",
		"beta":    filepath.Join(home, "repo/shared/beta") + ":1",
		"na-prod": filepath.Join(home, ".config/rhizome/config") + ":4",
	} {
		e, err := c.Environment(name)
		if err != nil || e.Source != want {
			t.Errorf("Environment(%q).Source = %q (%v), want %q", name, e.Source, err, want)
		}
	}
	_, ledger, err := c.Resolve("na-prod", "ledger")
	if err != nil || ledger.Source != filepath.Join(home, ".config/rhizome/config")+":5" {
		t.Errorf("na-prod/ledger = %+v, %v; want it from the config's line 5", ledger, err)
	}
}

func TestIncludeErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // each must be in the error
	}{
		{
			name:  "missing file",
			files: map[string]string{".config/rhizome/config": "\ninclude team.conf\n"},
			want:  []string{"rhizome/config:2: include team.conf: ", "/.config/rhizome/team.conf does not exist"},
		},
		{
			name: "cycle",
			files: map[string]string{
				".config/rhizome/config": "include a\n",
				".config/rhizome/a":      "# a\ninclude b\n",
				".config/rhizome/b":      "include ./a\n",
			},
			want: []string{"rhizome/b:1: include ./a: an include cycle: ", "rhizome/config → ", "rhizome/a → ", "rhizome/b → ", "rhizome/a"},
		},
		{
			name:  "itself",
			files: map[string]string{".config/rhizome/config": "include ../rhizome/config\n"},
			want:  []string{"rhizome/config:1: include ../rhizome/config: an include cycle: ", "rhizome/config → ", "rhizome/config"},
		},
		{
			name: "an error inside the included file",
			files: map[string]string{
				".config/rhizome/config":    "include team.conf\n",
				".config/rhizome/team.conf": "environment x\n    contxt c\n",
			},
			want: []string{"rhizome/team.conf:2: unknown keyword \"contxt\""},
		},
		{
			name:  "a directory",
			files: map[string]string{".config/rhizome/config": "include .\n"},
			want:  []string{"rhizome/config:1: include .: ", "is a directory (include ./* reads its files)"},
		},
		{
			name:  "no path",
			files: map[string]string{".config/rhizome/config": "include\n"},
			want:  []string{"rhizome/config:1: include needs a PATH"},
		},
		{
			name: "include ends the environment above it",
			files: map[string]string{
				".config/rhizome/config":     "environment x\ninclude empty.conf\n    context c\n",
				".config/rhizome/empty.conf": "# nothing yet\n",
			},
			want: []string{"rhizome/config:3: context belongs to an environment"},
		},
		{
			name: "an incomplete environment in an included file",
			files: map[string]string{
				".config/rhizome/config":    "include team.conf\n",
				".config/rhizome/team.conf": "\nenvironment x\n    context c\n",
			},
			want: []string{"rhizome/team.conf:2: environment x has no"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := loadWith(t, tt.files)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Load() = %v, want an error containing %q", err, w)
				}
			}
		})
	}
}
