package shuffle

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTicketRoundTrip(t *testing.T) {
	for _, tk := range []Ticket{
		{Job: "j", Stage: 0, Map: 0, Partition: 0},
		{Job: "Job-42_x", Stage: 7, Map: 123, Partition: 1<<31 - 1},
		{Job: strings.Repeat("a", 64), Stage: 1, Map: 2, Partition: 3},
	} {
		b, err := EncodeTicket(tk)
		if err != nil {
			t.Fatalf("%v: %v", tk, err)
		}
		got, err := DecodeTicket(b)
		if err != nil || got != tk {
			t.Fatalf("%s: decoded %v, %v", b, got, err)
		}
	}
	b, _ := EncodeTicket(Ticket{Job: "q1", Stage: 2, Map: 0, Partition: 3})
	if want := `{"v":1,"job":"q1","stage":2,"map":0,"partition":3}`; string(b) != want {
		t.Errorf("wire form %s, documented %s", b, want)
	}
}

func TestTicketRejects(t *testing.T) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `"x"`,
		`{"v":1,"job":"j","stage":0,"map":0}`,
		`{"v":1,"job":"j","stage":0,"partition":0}`,
		`{"v":1,"stage":0,"map":0,"partition":0}`,
		`{"job":"j","stage":0,"map":0,"partition":0}`,
		`{"v":2,"job":"j","stage":0,"map":0,"partition":0}`,
		`{"v":1,"job":"","stage":0,"map":0,"partition":0}`,
		`{"v":1,"job":"..","stage":0,"map":0,"partition":0}`,
		`{"v":1,"job":"a/../../b","stage":0,"map":0,"partition":0}`,
		`{"v":1,"job":"a\\b","stage":0,"map":0,"partition":0}`,
		`{"v":1,"job":"a b","stage":0,"map":0,"partition":0}`,
		`{"v":1,"job":"` + strings.Repeat("a", 65) + `","stage":0,"map":0,"partition":0}`,
		`{"v":1,"job":"j","stage":-1,"map":0,"partition":0}`,
		`{"v":1,"job":"j","stage":0,"map":1.5,"partition":0}`,
		`{"v":1,"job":"j","stage":0,"map":0,"partition":2147483648}`,
		`{"v":1,"job":"j","stage":0,"map":0,"partition":"0"}`,
		`{"v":1,"job":"j","stage":0,"map":0,"partition":0,"extra":1}`,
		`{"v":1,"job":"j","stage":0,"map":0,"partition":0} {}`,
		`{"v":1,"job":"j","stage":0,"map":0,"partition":0`,
		strings.Repeat(" ", 2000),
	} {
		if tk, err := DecodeTicket([]byte(s)); !errors.Is(err, ErrBadTicket) {
			t.Errorf("%.80s: got %v, %v; want ErrBadTicket", s, tk, err)
		}
	}
	if _, err := EncodeTicket(Ticket{Job: "../x"}); !errors.Is(err, ErrBadTicket) {
		t.Errorf("EncodeTicket accepted a bad job id: %v", err)
	}
}

// FuzzDecodeTicket: any input decodes to a valid ticket whose path stays
// under the root, or to an error; never a panic.
func FuzzDecodeTicket(f *testing.F) {
	f.Add([]byte(`{"v":1,"job":"j","stage":1,"map":2,"partition":3}`))
	f.Add([]byte(`{"v":1,"job":"../..","stage":1,"map":2,"partition":3}`))
	f.Add([]byte(`../../etc/passwd`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tk, err := DecodeTicket(b)
		if err != nil {
			return
		}
		root := "/root/shuffle"
		p := PartitionPath(TaskDir(root, tk.Job, tk.Stage, tk.Map), tk.Partition)
		if !strings.HasPrefix(p, root+"/"+tk.Job+"/") || strings.Contains(p, "..") {
			t.Fatalf("ticket %s maps outside the root: %s", b, p)
		}
		again, err := EncodeTicket(tk)
		if err != nil {
			t.Fatal(err)
		}
		if tk2, err := DecodeTicket(again); err != nil || tk2 != tk {
			t.Fatalf("re-encoding %v: %v, %v", tk, tk2, err)
		}
	})
}

func TestPaths(t *testing.T) {
	got := PartitionPath(TaskDir("/x", "job", 2, 3), 4)
	if want := filepath.Join("/x", "job", "stage-2", "map-3", "part-4.arrow"); got != want {
		t.Errorf("path %s, want %s", got, want)
	}
}

func TestRemoveJobAndSweep(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	mk := func(job string, age time.Duration) {
		dir := TaskDir(root, job, 1, 0)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		f := PartitionPath(dir, 0)
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		old := now.Add(-age)
		for _, p := range []string{f, dir, filepath.Dir(dir), filepath.Join(root, job)} {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("old1", 3*time.Hour)
	mk("old2", 2*time.Hour)
	mk("fresh", time.Minute)
	mk("mixed", 5*time.Hour)
	// A recent file anywhere keeps its job.
	recent := PartitionPath(TaskDir(root, "mixed", 1, 0), 1)
	if err := os.WriteFile(recent, []byte("y"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Not a job directory: left alone.
	if err := os.MkdirAll(filepath.Join(root, ".trash"), 0o755); err != nil {
		t.Fatal(err)
	}
	old := now.Add(-10 * time.Hour)
	os.Chtimes(filepath.Join(root, ".trash"), old, old)

	removed, err := Sweep(root, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	if !slices.Equal(removed, []string{"old1", "old2"}) {
		t.Errorf("swept %v, want [old1 old2]", removed)
	}
	if names := listDir(t, root); !slices.Equal(names, []string{".trash", "fresh", "mixed"}) {
		t.Errorf("left %v", names)
	}
	if err := RemoveJob(root, "fresh"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveJob(root, "never-existed"); err != nil {
		t.Errorf("removing an absent job: %v", err)
	}
	if err := RemoveJob(root, ".."); err == nil {
		t.Error("RemoveJob accepted ..")
	}
	if names := listDir(t, root); !slices.Equal(names, []string{".trash", "mixed"}) {
		t.Errorf("left %v", names)
	}
	if removed, err := Sweep(filepath.Join(root, "absent"), time.Hour, now); err != nil || removed != nil {
		t.Errorf("sweep of a missing root: %v, %v", removed, err)
	}
}
