package agent

import (
	"reflect"
	"testing"

	"github.com/rhizome-dev/rhizome/rpc"
)

// TestToRequestCarriesEveryField fills every field of a forward's params and wants every field
// of the request set: a field added to both and not passed through fails here.
func TestToRequestCarriesEveryField(t *testing.T) {
	var p rpc.ForwardParams
	v := reflect.ValueOf(&p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Int, reflect.Int64:
			f.SetInt(7)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"x"}))
		default:
			t.Fatalf("rpc.ForwardParams.%s is a %s: teach this test to fill it", v.Type().Field(i).Name, f.Kind())
		}
	}
	r := reflect.ValueOf(toRequest(p))
	for i := range r.NumField() {
		if r.Field(i).IsZero() {
			t.Errorf("toRequest(%+v) leaves forward.Request.%s unset", p, r.Type().Field(i).Name)
		}
	}
}
