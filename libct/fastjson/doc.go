// Package fastjson is encoding/json's Unmarshal and Marshal for rt's own
// hot paths (config.json, state.json, the init protocol), without
// encoding/json's start-up cost.
//
// encoding/json builds, on the first use of a type, an encoder for every
// type reachable from it (its field cache serves both directions), and
// rt's processes are short-lived: decoding one config.json into a
// specs.Spec costs a fresh process 2–4 ms, almost all of it in that
// reflection, against ~0.1 ms for the parse itself. fastjson looks at a
// type only when a value of it is met, and keeps a small field table.
//
// It is not a second JSON implementation with its own rules: it covers
// the plain shapes those types use (structs with json tags, pointers,
// slices, string-keyed maps, strings, booleans, integers, floats on
// decode, []byte as base64, types with MarshalJSON/UnmarshalJSON such as
// time.Time and json.RawMessage) and gives anything else to encoding/json.
// In particular Unmarshal hands over, from a zero value, whenever it
// meets what it does not do exactly as encoding/json would: invalid JSON,
// a key that matches a field only case-insensitively, a repeated key, a
// type mismatch, a number out of range, an interface or array field, a
// TextUnmarshaler. So a decode that succeeds here gives the value
// encoding/json gives, and every error is encoding/json's own. Marshal
// writes the bytes json.Marshal writes (HTML-safe escaping included), or
// calls it. The tests check both claims against encoding/json, on rt's
// types and under fuzzing.
package fastjson
