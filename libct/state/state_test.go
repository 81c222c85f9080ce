package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestValidateID(t *testing.T) {
	good := []string{"a", "c1", "my_container-1.2+x", strings.Repeat("a", MaxIDLen)}
	bad := []string{"", ".", "..", "a/b", "../x", "a\x00b", "a b", strings.Repeat("a", MaxIDLen+1), "é"}
	for _, id := range good {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range bad {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) = nil, want an error", id)
		}
	}
}

func TestStoreLifecycle(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	h, err := s.Create("c1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("c1"); !errors.Is(err, ErrExist) {
		t.Fatalf("second Create: %v, want ErrExist", err)
	}
	st := &State{ID: "c1", Phase: PhaseCreated, Pid: 42, Annotations: map[string]string{"a": "b"}}
	if err := h.Save(st); err != nil {
		t.Fatal(err)
	}
	h.Close()
	h, err = s.Open("c1")
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.Load()
	if err != nil || got.Pid != 42 || got.Phase != PhaseCreated || got.Annotations["a"] != "b" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	ids, _ := s.List()
	if len(ids) != 1 || ids[0] != "c1" {
		t.Fatalf("List = %v", ids)
	}
	if err := h.Remove(); err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := s.Open("c1"); !errors.Is(err, ErrNotExist) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open after Remove: %v", err)
	}
}

func TestLoadWithoutStateFileIsCreating(t *testing.T) {
	s := Store{Root: t.TempDir()}
	h, err := s.Create("x")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	st, err := h.Load()
	if err != nil || st.Phase != PhaseCreating || st.Owner != 0 {
		t.Fatalf("Load = %+v, %v", st, err)
	}
}

func TestCorruptStateIsAnError(t *testing.T) {
	s := Store{Root: t.TempDir()}
	h, _ := s.Create("x")
	defer h.Close()
	os.WriteFile(filepath.Join(h.Dir, "state.json"), []byte("{half"), 0o600)
	if _, err := h.Load(); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("Load of corrupt state: %v", err)
	}
}

// Concurrent writers under the lock never leave a torn state.json.
func TestConcurrentSaves(t *testing.T) {
	s := Store{Root: t.TempDir()}
	h, _ := s.Create("x")
	h.Save(&State{ID: "x"})
	h.Close()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			h, err := s.Open("x")
			if err != nil {
				t.Error(err)
				return
			}
			defer h.Close()
			st, err := h.Load()
			if err != nil {
				t.Error(err)
				return
			}
			st.Pid++
			if err := h.Save(st); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	h, _ = s.Open("x")
	defer h.Close()
	st, err := h.Load()
	if err != nil || st.Pid != 20 {
		t.Fatalf("after 20 locked increments: pid %d, %v", st.Pid, err)
	}
}

func TestStartTimeAndAlive(t *testing.T) {
	pid := os.Getpid()
	st, err := StartTime(pid)
	if err != nil || st == 0 {
		t.Fatalf("StartTime(self) = %d, %v", st, err)
	}
	if !Alive(pid, st) {
		t.Fatal("self not alive")
	}
	if Alive(pid, st+1) {
		t.Fatal("a different start time must read as another process")
	}
}

func TestValidateIDNamesTheCharacter(t *testing.T) {
	for id, want := range map[string]string{"é": `'é'`, "a b": `' '`, "a\nb": `'\n'`, "x\xff": `'�'`} {
		if err := ValidateID(id); err == nil || !strings.Contains(err.Error(), "invalid character "+want) {
			t.Errorf("ValidateID(%q) = %v, want it to name %s", id, err, want)
		}
	}
}
