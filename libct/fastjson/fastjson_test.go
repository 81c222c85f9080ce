package fastjson

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The shapes rt's own messages use, beside specs.Spec.
type inner struct {
	A int    `json:"a"`
	B string `json:"b,omitempty"`
}

type embedded struct {
	X uint16 `json:"x"`
	Y *bool  `json:"y,omitempty"`
}

type mixed struct {
	embedded
	Name    string            `json:"name"`
	Time    time.Time         `json:"time"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	Bytes   []byte            `json:"bytes,omitempty"`
	Map     map[string]string `json:"map,omitempty"`
	MapP    map[string]*inner `json:"mapP,omitempty"`
	List    []inner           `json:"list"`
	Ptr     *inner            `json:"ptr,omitempty"`
	PP      **int64           `json:"pp,omitempty"`
	F       float64           `json:"f,omitempty"`
	I8      int8              `json:"i8"`
	U       uint              `json:"u,omitempty"`
	Bool    bool              `json:"bool,omitempty"`
	NoTag   string
	Skip    string `json:"-"`
	private int
}

// targets returns fresh values of every type the tests decode into.
func targets() []func() any {
	return []func() any{
		func() any { return new(specs.Spec) },
		func() any { return new(specs.Process) },
		func() any { return new(mixed) },
		func() any { return new(map[string]inner) },
		func() any { return new([]string) },
		func() any { return new(*specs.Hooks) },
	}
}

// same decodes data with encoding/json and with Unmarshal into a fresh
// value of each target and fails on any difference: value or error.
// Where both decoded, it compares Marshal with json.Marshal too.
func same(t *testing.T, data []byte) {
	t.Helper()
	for _, mk := range targets() {
		want, got := mk(), mk()
		errW := json.Unmarshal(data, want)
		errG := Unmarshal(data, got)
		if (errW == nil) != (errG == nil) || (errW != nil && errW.Error() != errG.Error()) {
			t.Fatalf("%T: error %v, encoding/json %v\n%s", got, errG, errW, data)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%T: decoded %+v, encoding/json %+v\n%s", got, got, want, data)
		}
		if errW != nil {
			continue
		}
		bw, errW := json.Marshal(want)
		bg, errG := Marshal(want)
		if (errW == nil) != (errG == nil) || !bytes.Equal(bw, bg) {
			t.Fatalf("%T: Marshal gave %s (%v), encoding/json %s (%v)", want, bg, errG, bw, errW)
		}
	}
}

func corpus(t testing.TB) [][]byte {
	var docs [][]byte
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	// The seeds of spec's FuzzLoad (odd and hostile configs).
	seeds, _ := filepath.Glob("../../spec/testdata/fuzz/FuzzLoad/*")
	for _, f := range seeds {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if s, ok := strings.CutPrefix(line, "[]byte("); ok {
				if v, err := strconv.Unquote(strings.TrimSuffix(s, ")")); err == nil {
					docs = append(docs, []byte(v))
				}
			}
		}
	}
	return append(docs, [][]byte{
		[]byte(`null`), []byte(` {} `), []byte(`[]`), []byte(`"x"`), []byte(`{"ociVersion":1}`),
		[]byte(`{"OCIVERSION":"1"}`), []byte(`{"ociversion":"1"}`), []byte(`{"ociVersion":"a","ociVersion":"b"}`),
		[]byte(`{"process":{"args":["a"],"args":["b"]}}`), []byte(`{"process":null}`), []byte(`{"process":{"user":{"uid":-1}}}`),
		[]byte(`{"process":{"user":{"uid":4294967296}}}`), []byte(`{"process":{"user":{"uid":1.0}}}`), []byte(`{"process":{"user":{"uid":"1"}}}`),
		[]byte(`{"process":{"oomScoreAdj":null,"terminal":null,"args":null,"env":[]}}`), []byte(`{"annotations":{"a":"1","a":"2"}}`),
		[]byte(`{"annotations":{"\u0061":"x","b\n":"y"}}`), []byte(`{"hostname":"\ud800x"}`), []byte("{\"hostname\":\"\xff\xfe\"}"),
		[]byte(`{"hostname":"a\/b\'"}`), []byte(`{"linux":{"resources":{"memory":{"limit":9223372036854775808}}}}`),
		[]byte(`{"linux":{"resources":{"blockIO":{"weightDevice":[{"major":1,"Major":2}]}}}}`), []byte(`{"hooks":{"prestart":[{"timeout":null}]}}`),
		[]byte(`{"ſtate":1}`), []byte(`{"root":{"path":"r","readonly":true},"root":null}`), []byte(`{"windows":{"credentialSpec":{"a":1}}}`),
		[]byte(`{"name":"n","time":"2024-01-02T03:04:05.123456789+02:00","raw":{"a" : [1, 2]},"bytes":"aGVsbG8=","x":7,"y":true,"list":[]}`),
		[]byte(`{"time":null,"raw":null,"bytes":null,"map":null,"list":null,"ptr":null,"pp":null}`), []byte(`{"pp":5,"f":1.5e3,"i8":-128,"u":18446744073709551615}`),
		[]byte(`{"i8":128}`), []byte(`{"f":1e400}`), []byte(`{"bytes":"!!"}`), []byte(`{"bytes":[1,2,255]}`), []byte(`{"time":"yesterday"}`),
		[]byte(`{"mapP":{"k":{"a":1},"n":null},"NoTag":"t","notag":"u"}`), []byte(`{"Skip":"s","private":1,"-":2}`), []byte(`{"a":{"a":1,"b":"2"}}`),
		[]byte(`{"x":1,"X":2}`), []byte(`[1]`), []byte(`{`), []byte(`{"a":1}x`), []byte(``), []byte(`{"a":tru}`),
	}...)
}

func TestMatchesEncodingJSON(t *testing.T) {
	for _, doc := range corpus(t) {
		same(t, doc)
	}
}

// TestFastPathTaken guards the point of the package: rt's configs decode
// without encoding/json.
func TestFastPathTaken(t *testing.T) {
	for _, f := range []string{"testdata/default.json", "testdata/seccomp.json", "testdata/full.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s specs.Spec
		if !json.Valid(b) {
			t.Fatalf("%s: invalid", f)
		}
		d := decoder{data: b}
		if err := d.value(reflect.ValueOf(&s).Elem()); err != nil {
			t.Errorf("%s: decoding fell back to encoding/json", f)
		}
		e := encoder{}
		if err := e.value(reflect.ValueOf(&s), 0); err != nil {
			t.Errorf("%s: encoding fell back to encoding/json", f)
		}
	}
}

func TestNotZeroDestination(t *testing.T) {
	s := specs.Spec{Hostname: "keep", Process: &specs.Process{Cwd: "/c"}}
	w := s
	w.Process = &specs.Process{Cwd: "/c"}
	data := []byte(`{"process":{"args":["a"]}}`)
	errG := Unmarshal(data, &s)
	errW := json.Unmarshal(data, &w)
	if errG != nil || errW != nil || !reflect.DeepEqual(s, w) {
		t.Fatalf("merge: %+v (%v), encoding/json %+v (%v)", s, errG, w, errW)
	}
}

func TestMarshalValues(t *testing.T) {
	tr := true
	n := int64(-3)
	pn := &n
	vals := []any{
		nil, 1, "a<b>&\u2028\x01\"\\\t\xff", []byte(nil), []byte{}, []byte("xyz"), map[string]int(nil), map[string]int{"b": 1, "a": 2},
		[]string(nil), []string{}, struct{}{}, &mixed{}, mixed{
			embedded: embedded{X: 3, Y: &tr}, Name: "n", Time: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
			Raw: json.RawMessage(` { "a" : "<x>" } `), Bytes: []byte{0, 1}, Map: map[string]string{"z": "1", "": "e"},
			MapP: map[string]*inner{"p": nil, "q": {A: 1}}, List: []inner{{}}, Ptr: &inner{B: "b"}, PP: &pn, I8: -1, U: 7, Bool: true,
		},
		mixed{F: 1.5}, mixed{Raw: json.RawMessage(`{bad`)}, []any{1},
	}
	for _, v := range vals {
		bw, errW := json.Marshal(v)
		bg, errG := Marshal(v)
		if (errW == nil) != (errG == nil) || (errW != nil && errW.Error() != errG.Error()) || !bytes.Equal(bw, bg) {
			t.Errorf("%T: Marshal gave %s (%v), encoding/json %s (%v)", v, bg, errG, bw, errW)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, doc := range corpus(f) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		same(t, data)
	})
}
