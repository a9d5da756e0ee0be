package ortc

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decode parses a JSON literal the way the engine receives JS values.
func decode(t testing.TB, s string) any {
	t.Helper()
	if s == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

// assertJSON checks that got marshals to the same JSON value as want.
func assertJSON(t testing.TB, got any, want string) {
	t.Helper()
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var g, w any
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("unmarshal got: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON mismatch\n got: %s\nwant: %s", b, want)
	}
}

// assertErr checks the JS error class and exact message.
func assertErr(t testing.TB, err error, class, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %s %q, got nil", class, msg)
	}
	if got := JSErrorClass(err); got != class {
		t.Fatalf("error class: got %s (%q), want %s", got, err.Error(), class)
	}
	if err.Error() != msg {
		t.Fatalf("error message:\n got: %q\nwant: %q", err.Error(), msg)
	}
}
