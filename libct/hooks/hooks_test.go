package hooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestRunPassesStateArgsEnv(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	h := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", `cat > "$OUT"; echo "$0 $1" >> "$OUT"`, "arg1"}, Env: []string{"OUT=" + out}}
	if err := Run("prestart", []specs.Hook{h}, []byte(`{"id":"x"}`)); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if got := string(b); got != "{\"id\":\"x\"}arg1 \n" && !strings.HasPrefix(got, `{"id":"x"}`) {
		t.Fatalf("hook saw %q", got)
	}
}

func TestRunFailureNamesHook(t *testing.T) {
	err := Run("poststart", []specs.Hook{{Path: "/bin/true"}, {Path: "/bin/sh", Args: []string{"sh", "-c", "echo boom >&2; exit 3"}}}, nil)
	if err == nil || !strings.Contains(err.Error(), "hooks.poststart[1]") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v", err)
	}
}

func TestRunTimeout(t *testing.T) {
	one := 1
	start := time.Now()
	err := Run("createRuntime", []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "sleep 30"}, Timeout: &one}}, nil)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("timeout took %v", time.Since(start))
	}
}
