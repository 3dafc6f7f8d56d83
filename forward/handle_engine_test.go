package forward

import "testing"

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
		h := newHandle(&frontDoor{port: tt.port}, r)
		if h.ConnectionString != tt.url || h.Engine != tt.name || h.Moved {
			t.Errorf("newHandle(%d, engine %q) = %+v, want %s, engine %s, not moved", tt.port, tt.engine, h, tt.url, tt.name)
		}
	}
	if a, b := (Request{SQLConnection: "p:r:i"}), (Request{SQLConnection: "p:r:i", Engine: "postgres"}); a.key() == b.key() {
		t.Errorf("a MySQL and a PostgreSQL request for one instance share a key")
	}
	if a, b := (Request{SQLConnection: "p:r:i"}), (Request{SQLConnection: "p:r:i", Engine: "mysql"}); a.key() != b.key() {
		t.Errorf("engine \"\" and mysql are different keys")
	}
}
