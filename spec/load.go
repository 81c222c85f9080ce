package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rt-oci/rt/libct/fastjson"
)

// MaxConfigSize is the largest config.json (or process file) Load and
// LoadProcess accept. Real configs are a few KiB; the limit only keeps a
// wrong or hostile file from exhausting memory.
const MaxConfigSize = 16 << 20

// ConfigName is the name of the configuration file inside a bundle.
const ConfigName = "config.json"

// Load reads and decodes <bundle>/config.json. The bundle path is made
// absolute first. Load does not validate; call Validate afterwards.
//
// Errors are one line naming the problem and the field, for example
//
//	config.json: process.user.uid: cannot unmarshal string into Go value of type uint32
//	config.json: syntax error at line 3, column 7 (byte 41): invalid character '}' looking for beginning of object key string
//	config.json not found in bundle /x: open /x/config.json: no such file or directory
func Load(bundle string) (*specs.Spec, error) {
	s, _, err := LoadRaw(bundle)
	return s, err
}

// LoadRaw is Load that also returns the bytes of config.json as read, so
// they can be passed on without encoding the config again.
func LoadRaw(bundle string) (*specs.Spec, []byte, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, nil, fmt.Errorf("bundle %q: %w", bundle, err)
	}
	path := filepath.Join(abs, ConfigName)
	data, err := readLimited(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s not found in bundle %s: %w", ConfigName, abs, err)
		}
		return nil, nil, fmt.Errorf("%s in bundle %s: %w", ConfigName, abs, err)
	}
	var s specs.Spec
	if err := decode(data, &s, ""); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ConfigName, err)
	}
	return &s, data, nil
}

// LoadProcess reads and decodes a process JSON file (a specs.Process, as
// given to `exec --process FILE`). Field names in errors carry the prefix
// "process", e.g. `/tmp/p.json: process.args: cannot unmarshal string into
// Go value of type []string`. It does not validate; call
// ValidateProcess(p, "process") afterwards.
func LoadProcess(path string) (*specs.Process, error) {
	data, err := readLimited(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("process file %s not found: %w", path, err)
		}
		return nil, fmt.Errorf("process file %s: %w", path, err)
	}
	var p specs.Process
	if err := decode(data, &p, "process"); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

// readLimited reads a regular file of at most MaxConfigSize bytes. It opens
// with O_NONBLOCK so a FIFO planted in place of the file cannot hang us.
func readLimited(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (mode %v)", path, st.Mode().Type())
	}
	if st.Size() > MaxConfigSize {
		return nil, fmt.Errorf("%s is too large: %d bytes, limit %d", path, st.Size(), MaxConfigSize)
	}
	// The file may grow after Stat; never read more than the limit.
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("%s is too large: more than %d bytes", path, MaxConfigSize)
	}
	return data, nil
}

// decode unmarshals JSON into v and turns decoding errors into one-line
// *FieldError values. prefix is prepended to field paths ("" for config.json).
func decode(data []byte, v any, prefix string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return &FieldError{Field: prefix, Msg: "empty file, expected a JSON object"}
	}
	err := fastjson.Unmarshal(data, v)
	if err == nil {
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var synErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		f := jsonPathAt(data, typeErr.Offset)
		if f == "" {
			f = typeErr.Field
		}
		field := joinField(prefix, f)
		what := "JSON value"
		if typeErr.Type != nil {
			what = "Go value of type " + typeErr.Type.String()
		}
		msg := fmt.Sprintf("cannot unmarshal %s into %s", typeErr.Value, what)
		if field == "" {
			// The document itself has the wrong type (e.g. an array).
			msg = fmt.Sprintf("cannot unmarshal %s into a JSON object", typeErr.Value)
		}
		return &FieldError{Field: field, Msg: msg, Err: err}
	case errors.As(err, &synErr):
		line, col := lineCol(data, synErr.Offset)
		return &FieldError{
			Field: prefix,
			Msg: fmt.Sprintf("syntax error at line %d, column %d (byte %d): %s",
				line, col, synErr.Offset, synErr.Error()),
			Err: err,
		}
	default:
		return &FieldError{Field: prefix, Msg: err.Error(), Err: err}
	}
}

func joinField(prefix, field string) string {
	switch {
	case prefix == "":
		return field
	case field == "":
		return prefix
	case strings.HasPrefix(field, "["):
		return prefix + field
	default:
		return prefix + "." + field
	}
}

// lineCol converts a byte offset (as reported by json.SyntaxError, which
// points just past the offending byte) to a 1-based line and column.
func lineCol(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
