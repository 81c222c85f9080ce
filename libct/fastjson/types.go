package fastjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
)

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	marshalerType       = reflect.TypeFor[json.Marshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	numberType          = reflect.TypeFor[json.Number]()
)

// typeInfo is what fastjson knows about one type, computed on first use.
type typeInfo struct {
	// unmarshaler: *T has UnmarshalJSON (T not a pointer); marshaler: T
	// has MarshalJSON with a value receiver.
	unmarshaler, marshaler bool
	// noDecode, noEncode: encoding/json does it (see doc.go).
	noDecode, noEncode bool
	// Structs: the JSON fields in encoding order, the exact names, and the
	// ASCII case-folded names (a key matching one of those only without
	// case goes to encoding/json).
	fields []field
	byName map[string]int
	folded map[string]bool
}

type field struct {
	name      string
	key       []byte // `"name":`, as encoding/json writes it
	index     []int
	omitEmpty bool
}

var cache sync.Map // reflect.Type → *typeInfo

func info(t reflect.Type) *typeInfo {
	if ti, ok := cache.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := newInfo(t)
	cache.Store(t, ti)
	return ti
}

func newInfo(t reflect.Type) *typeInfo {
	ti := &typeInfo{}
	k := t.Kind()
	pt := reflect.PointerTo(t)
	if k != reflect.Pointer {
		ti.unmarshaler = pt.Implements(unmarshalerType)
		if !ti.unmarshaler && pt.Implements(textUnmarshalerType) {
			ti.noDecode = true
		}
	}
	ti.marshaler = t.Implements(marshalerType)
	if !ti.marshaler && (pt.Implements(marshalerType) || pt.Implements(textMarshalerType)) {
		// A pointer-receiver marshaler is used or not depending on
		// addressability, a TextMarshaler changes the form.
		ti.noEncode = true
	}
	switch k {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Pointer:
	case reflect.String:
		if t == numberType {
			ti.noDecode, ti.noEncode = true, true
		}
	case reflect.Float32, reflect.Float64:
		ti.noEncode = true // encoding/json's float format is its own
	case reflect.Slice:
		if e := t.Elem(); e.Kind() == reflect.Uint8 {
			pe := reflect.PointerTo(e)
			if pe.Implements(marshalerType) || pe.Implements(textMarshalerType) ||
				pe.Implements(unmarshalerType) || pe.Implements(textUnmarshalerType) {
				ti.noDecode, ti.noEncode = true, true
			}
		}
	case reflect.Map:
		kt := t.Key()
		if kt.Kind() != reflect.String || reflect.PointerTo(kt).Implements(textUnmarshalerType) {
			ti.noDecode, ti.noEncode = true, true
		}
	case reflect.Struct:
		if !structFields(ti, t) {
			ti.noDecode, ti.noEncode = true, true
		}
	default: // interfaces, arrays, channels, functions, complex numbers
		ti.noDecode, ti.noEncode = true, true
	}
	return ti
}

// structFields fills ti.fields for a struct, or reports a shape whose
// encoding/json rules fastjson does not follow: tag options other than
// omitempty, names that are not plain, embedded structs behind pointers or
// tags or not exported, and names used twice (encoding/json's dominance
// rules).
func structFields(ti *typeInfo, t reflect.Type) bool {
	ti.byName = map[string]int{}
	ti.folded = map[string]bool{}
	return addFields(ti, t, nil)
}

func addFields(ti *typeInfo, t reflect.Type, parent []int) bool {
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag, tagged := sf.Tag.Lookup("json")
		if tag == "-" {
			continue
		}
		index := append(append([]int(nil), parent...), i)
		if sf.Anonymous {
			if tagged || !sf.IsExported() || sf.Type.Kind() != reflect.Struct {
				return false
			}
			if !addFields(ti, sf.Type, index) {
				return false
			}
			continue
		}
		if !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		omitEmpty := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "omitempty":
				omitEmpty = true
			case "":
			default: // string, omitzero, ...
				return false
			}
		}
		if name == "" {
			name = sf.Name
		}
		if !plainName(name) {
			return false
		}
		if _, dup := ti.byName[name]; dup {
			return false
		}
		up := upper(name)
		if ti.folded[up] {
			return false
		}
		ti.byName[name] = len(ti.fields)
		ti.folded[up] = true
		ti.fields = append(ti.fields, field{
			name: name, key: []byte(`"` + name + `":`), index: index, omitEmpty: omitEmpty,
		})
	}
	return true
}

// plainName: ASCII letters, digits and the punctuation that needs no
// escaping in JSON or HTML (encoding/json takes more).
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '-' || c == '.' || c == '$' || c == '@' || c == '/' || c == ':':
		default:
			return false
		}
	}
	return true
}

// upper folds ASCII letters to upper case (only ASCII names and keys are
// compared this way; others go to encoding/json).
func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
