package fastjson

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
)

// errFallback: hand the document to encoding/json.
var errFallback = errors.New("fastjson: not handled")

// Unmarshal is json.Unmarshal(data, v): the same result, the same errors.
func Unmarshal(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return json.Unmarshal(data, v)
	}
	e := rv.Elem()
	// Only from a zero value (encoding/json merges into what is there),
	// and only valid JSON (so syntax errors are encoding/json's).
	if !e.IsZero() || !json.Valid(data) {
		return json.Unmarshal(data, v)
	}
	d := decoder{data: data}
	if d.value(e) == nil {
		return nil
	}
	e.SetZero()
	return json.Unmarshal(data, v)
}

// decoder walks a document json.Valid accepted.
type decoder struct {
	data []byte
	off  int
}

func (d *decoder) space() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\n', '\r':
			d.off++
		default:
			return
		}
	}
}

// value decodes the next value into v (settable, zero).
func (d *decoder) value(v reflect.Value) error {
	d.space()
	t := v.Type()
	ti := info(t)
	if ti.unmarshaler {
		start := d.off
		d.skip()
		u, ok := v.Addr().Interface().(json.Unmarshaler)
		if !ok || u.UnmarshalJSON(d.data[start:d.off]) != nil {
			return errFallback
		}
		return nil
	}
	if ti.noDecode {
		return errFallback
	}
	c := d.data[d.off]
	if v.Kind() == reflect.Pointer && c != 'n' {
		return d.elem(v)
	}
	switch c {
	case 'n':
		d.off += 4
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
		return nil
	case 't', 'f':
		if v.Kind() != reflect.Bool {
			return errFallback
		}
		v.SetBool(c == 't')
		if c == 't' {
			d.off += 4
		} else {
			d.off += 5
		}
		return nil
	case '"':
		return d.str(v)
	case '{':
		return d.object(v)
	case '[':
		return d.array(v)
	default:
		return d.number(v)
	}
}

func (d *decoder) str(v reflect.Value) error {
	switch v.Kind() {
	case reflect.String:
		s, err := d.unquote()
		if err != nil {
			return err
		}
		v.SetString(string(s))
		return nil
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Uint8 {
			return errFallback
		}
		s, err := d.unquote()
		if err != nil {
			return err
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
		n, err := base64.StdEncoding.Decode(b, s)
		if err != nil {
			return errFallback
		}
		v.SetBytes(b[:n])
		return nil
	}
	return errFallback
}

// elem allocates the pointer v points to and decodes into it.
func (d *decoder) elem(v reflect.Value) error {
	p := reflect.New(v.Type().Elem())
	if err := d.value(p.Elem()); err != nil {
		return err
	}
	v.Set(p)
	return nil
}

func (d *decoder) number(v reflect.Value) error {
	start := d.off
	for d.off < len(d.data) {
		c := d.data[d.off]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			d.off++
			continue
		}
		break
	}
	s := string(d.data[start:d.off])
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v.OverflowInt(n) {
			return errFallback
		}
		v.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || v.OverflowUint(n) {
			return errFallback
		}
		v.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, v.Type().Bits())
		if err != nil || v.OverflowFloat(n) {
			return errFallback
		}
		v.SetFloat(n)
	default:
		return errFallback
	}
	return nil
}

func (d *decoder) object(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Struct:
		return d.fields(v)
	case reflect.Map:
		return d.entries(v)
	}
	return errFallback
}

// members walks an object (the input is valid JSON): member is called
// with each key, the offset on its value, and must consume that value.
func (d *decoder) members(member func(key []byte) error) error {
	d.off++ // {
	for {
		d.space()
		if d.data[d.off] == '}' {
			d.off++
			return nil
		}
		key, err := d.unquote()
		if err != nil {
			return err
		}
		d.space()
		d.off++ // :
		if err := member(key); err != nil {
			return err
		}
		d.space()
		if d.data[d.off] == ',' {
			d.off++
		}
	}
}

// fields decodes an object into a struct. A key is a field's exact name
// or, if no name matches it even ignoring case, skipped; anything else
// (a repeated key, a case-insensitive match) is encoding/json's.
func (d *decoder) fields(v reflect.Value) error {
	ti := info(v.Type())
	var seen []bool
	return d.members(func(key []byte) error {
		i, ok := ti.byName[string(key)]
		if !ok {
			if !ascii(key) || ti.folded[upper(string(key))] {
				return errFallback
			}
			d.space()
			d.skip()
			return nil
		}
		if seen == nil {
			seen = make([]bool, len(ti.fields))
		}
		if seen[i] {
			return errFallback
		}
		seen[i] = true
		return d.value(v.FieldByIndex(ti.fields[i].index))
	})
}

// entries decodes an object into a map with string keys; a repeated key
// keeps the last value, as in encoding/json.
func (d *decoder) entries(v reflect.Value) error {
	t := v.Type()
	m := reflect.MakeMap(t)
	err := d.members(func(key []byte) error {
		e := reflect.New(t.Elem()).Elem()
		if err := d.value(e); err != nil {
			return err
		}
		k := reflect.New(t.Key()).Elem()
		k.SetString(string(key))
		m.SetMapIndex(k, e)
		return nil
	})
	if err == nil {
		v.Set(m)
	}
	return err
}

// array decodes into a slice; [] gives an empty, non-nil slice.
func (d *decoder) array(v reflect.Value) error {
	if v.Kind() != reflect.Slice {
		return errFallback
	}
	s := reflect.MakeSlice(v.Type(), 0, 0)
	d.off++ // [
	for i := 0; ; i++ {
		d.space()
		if d.data[d.off] == ']' {
			d.off++
			v.Set(s)
			return nil
		}
		s = reflect.Append(s, reflect.Zero(v.Type().Elem()))
		if err := d.value(s.Index(i)); err != nil {
			return err
		}
		d.space()
		if d.data[d.off] == ',' {
			d.off++
		}
	}
}

// skip passes over one value.
func (d *decoder) skip() {
	depth := 0
	for {
		d.space()
		switch c := d.data[d.off]; c {
		case '"':
			d.skipString()
		case '{', '[':
			depth++
			d.off++
		case '}', ']':
			depth--
			d.off++
		case ',', ':':
			d.off++
			continue
		default: // literal or number
			for d.off < len(d.data) {
				c := d.data[d.off]
				if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
					break
				}
				d.off++
			}
		}
		if depth == 0 {
			return
		}
	}
}

func (d *decoder) skipString() {
	d.off++ // "
	for {
		switch d.data[d.off] {
		case '\\':
			d.off += 2
		case '"':
			d.off++
			return
		default:
			d.off++
		}
	}
}

// unquote reads a string at d.off and returns its contents.
func (d *decoder) unquote() ([]byte, error) {
	start := d.off
	d.skipString()
	s, ok := unquoteBytes(d.data[start:d.off])
	if !ok {
		return nil, errFallback
	}
	return s, nil
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
