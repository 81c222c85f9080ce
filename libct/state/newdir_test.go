package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A new container directory appears already locked, so a concurrent
// command can never take it for the debris of a crashed create.
func TestCreateAppearsLocked(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	h, err := s.Create("c1")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	fd, err := unix.Open(s.Dir("c1"), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != unix.EWOULDBLOCK {
		t.Fatalf("flock of a just-created dir: %v, want EWOULDBLOCK", err)
	}
	if ids, _ := s.List(); strings.Join(ids, ",") != "c1" {
		t.Errorf("List = %v, want [c1] (no temp dirs)", ids)
	}
}

func TestCreateRaceOneWinner(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	const n = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, exist := 0, 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := s.Create("c1")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
				h.Save(&State{ID: "c1", Phase: PhaseCreating})
				// keep it locked: losers must not get in
			case errors.Is(err, ErrExist):
				exist++
			default:
				t.Errorf("Create: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || exist != n-1 {
		t.Fatalf("%d creates won, %d saw ErrExist; want 1 and %d", wins, exist, n-1)
	}
	if ents, _ := os.ReadDir(filepath.Join(s.Root, newDir)); len(ents) != 0 {
		t.Errorf("temp dirs left: %v", ents)
	}
}

func TestCreateLongID(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	h, err := s.Create(strings.Repeat("x", MaxIDLen))
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
}

func TestSweepStaleNewDirs(t *testing.T) {
	s := Store{Root: filepath.Join(t.TempDir(), "root")}
	top := filepath.Join(s.Root, newDir)
	stale, fresh, held := filepath.Join(top, "1"), filepath.Join(top, "2"), filepath.Join(top, "3")
	for _, d := range []string{stale, fresh, held} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAge)
	os.Chtimes(stale, old, old)
	os.Chtimes(held, old, old)
	fd, err := unix.Open(held, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.Flock(fd, unix.LOCK_EX)
	h, err := s.Create("c1")
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale, unlocked temp dir not swept: %v", err)
	}
	for _, d := range []string{fresh, held} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s (fresh or locked) was swept: %v", d, err)
		}
	}
}
