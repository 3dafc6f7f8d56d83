package forward

import (
	"fmt"
	"testing"

	"github.com/rhizome-dev/rhizome/forward/door"
)

func TestHandlePerEngine(t *testing.T) {
	tests := []struct {
		engine, url, name string
		port              int
	}{
		{"", "mysql://127.0.0.1:3306", "mysql", 3306},
		{"mysql", "mysql://127.0.0.1:3306", "mysql", 3306},
		{"postgres", "postgres://127.0.0.1:5432", "postgres", 5432},
		{"sqlserver", "sqlserver://127.0.0.1:1433", "sqlserver", 1433},
	}
	for _, tt := range tests {
		r := Request{SQLConnection: "p:r:i", Engine: tt.engine}
		if got := r.localPort(); got != tt.port {
			t.Errorf("Request{Engine: %q}.localPort() = %d, want %d", tt.engine, got, tt.port)
		}
		d, err := door.Open(door.Config{Port: r.localPort(), Engine: r.engine()})
		if err != nil {
			t.Fatal(err)
		}
		d.Close("test over")
		url := fmt.Sprintf("%s://127.0.0.1:%d", tt.name, d.Port())
		if d.Port() == tt.port {
			url = tt.url
		}
		if h := newHandle(d, r); h.ConnectionString != url || h.Engine != tt.name || h.Moved != (d.Port() != tt.port) {
			t.Errorf("newHandle(door on %d, engine %q) = %+v, want %s, engine %s", d.Port(), tt.engine, h, url, tt.name)
		}
	}
	if a, b := (Request{SQLConnection: "p:r:i"}), (Request{SQLConnection: "p:r:i", Engine: "postgres"}); a.key() == b.key() {
		t.Errorf("a MySQL and a PostgreSQL request for one instance share a key")
	}
	if a, b := (Request{SQLConnection: "p:r:i"}), (Request{SQLConnection: "p:r:i", Engine: "mysql"}); a.key() != b.key() {
		t.Errorf("engine \"\" and mysql are different keys")
	}
}
