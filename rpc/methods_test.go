package rpc

import (
	"reflect"
	"testing"
)

// TestMethodTable checks the table's entries against Service: every method of Service has
// its entry with a call, every connection method has none, and names are unique.
func TestMethodTable(t *testing.T) {
	seen := map[string]bool{}
	svc := reflect.TypeFor[Service]()
	for _, m := range Methods {
		if seen[m.Name] {
			t.Errorf("method %q twice in the table", m.Name)
		}
		seen[m.Name] = true
		if m.Conn != (m.call == nil) {
			t.Errorf("method %q: Conn %v but call set %v, want a call exactly for Service methods", m.Name, m.Conn, m.call != nil)
		}
	}
	calls := 0
	for _, m := range Methods {
		if !m.Conn {
			calls++
		}
	}
	if calls != svc.NumMethod() {
		t.Errorf("the table has %d Service methods, Service has %d", calls, svc.NumMethod())
	}
	if _, ok := LookupMethod("launch"); ok {
		t.Error(`LookupMethod("launch") found something`)
	}
}
