package spec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// jsonPathAt returns the path (e.g. `mounts[1].destination`) of the JSON
// value that contains byte offset off of data, as reported in
// json.UnmarshalTypeError.Offset (just past the start of a composite value,
// or the end of a scalar). It returns "" if the walk fails; callers then
// fall back to UnmarshalTypeError.Field, which lacks array indexes.
func jsonPathAt(data []byte, off int64) string {
	type frame struct {
		array  bool
		index  int
		key    string
		hasKey bool // object: key read, value pending
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.array:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			case isIdent(f.key):
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			default:
				b.WriteString("[" + strconv.Quote(f.key) + "]")
			}
		}
		return b.String()
	}
	for {
		// Is the next token a value (not an object key or a closing delim)?
		if n := len(stack); n > 0 && stack[n-1].array {
			stack[n-1].index++
		}
		tok, err := dec.Token()
		if err != nil { // io.EOF included: offset not found
			return ""
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:top]
			if top > 0 {
				stack[top-1].hasKey = false
			}
			continue
		}
		if top >= 0 && !stack[top].array && !stack[top].hasKey {
			k, _ := tok.(string)
			stack[top].key, stack[top].hasKey = k, true
			continue
		}
		// tok is a value at path().
		if dec.InputOffset() >= off {
			return path()
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '[' {
				stack = append(stack, frame{array: true, index: -1})
			} else {
				stack = append(stack, frame{})
			}
			continue
		}
		if top >= 0 {
			stack[top].hasKey = false
		}
	}
}

// isIdent reports whether k can be shown as `.k` in a path.
func isIdent(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
