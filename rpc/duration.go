package rpc

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration that travels as Go's duration text ("90s", "2h"), so people
// typing requests by hand write what they would in the config.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON implements json.Unmarshaler: a duration text, not negative.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("want a duration such as \"90s\" or \"2h\", got %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return fmt.Errorf("want a duration such as \"90s\" or \"2h\", got %q", s)
	}
	*d = Duration(v)
	return nil
}
