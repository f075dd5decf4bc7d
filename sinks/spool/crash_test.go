package spool

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash test runs this test binary again as a child that appends and delivers until it is
// killed with SIGKILL; these variables tell the child where and which round it is.
const (
	childDirEnv   = "SPOOL_CHILD"
	childRoundEnv = "SPOOL_CHILD_ROUND"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		crashChild(dir, os.Getenv(childRoundEnv))
		return
	}
	os.Exit(m.Run())
}

// crashRecord is the record appended for key: the key, then filler of a length that depends on
// it, so that a record cut or mixed up with another shows.
func crashRecord(key string) []byte {
	n := 50 + int(crc32.ChecksumIEEE([]byte(key))%2000)
	b := append([]byte(key), ':')
	for len(b) < n {
		b = append(b, byte('A'+len(b)%26))
	}
	return b
}

func recordKey(data []byte) string {
	key, _, _ := bytes.Cut(data, []byte(":"))
	return string(key)
}

// crashChild appends from 16 goroutines, printing "A key" once each Append returns, and
// delivers from one, printing "D key" before acknowledging, in a shuffled order, records held
// back in a window of 64. It runs until it is killed. Each line is one write to stdout, so a
// line printed reaches the parent even if the child dies right after.
func crashChild(dir, round string) {
	s, _, err := Open(Options{Dir: dir, SegmentBytes: 16 << 10, FsyncDelay: time.Millisecond, MinFreeBytes: 1})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	say := func(kind, key string) {
		mu.Lock()
		defer mu.Unlock()
		os.Stdout.WriteString(kind + " " + key + "\n")
	}
	ctx := context.Background()
	go func() {
		var window []uint64
		for {
			r, err := s.Next(ctx)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(2)
			}
			say("D", recordKey(r.Data))
			window = append(window, r.ID)
			if len(window) == 64 {
				rand.Shuffle(len(window), func(i, j int) { window[i], window[j] = window[j], window[i] })
				s.Ack(window[:32]...)
				window = append(window[:0], window[32:]...)
			}
		}
	}()
	for w := range 16 {
		go func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("%s-%d-%d", round, w, i)
				if err := s.Append(ctx, crashRecord(key)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				say("A", key)
			}
		}()
	}
	select {}
}

func TestCrash(t *testing.T) {
	dir := t.TempDir()
	appended := map[string]bool{}
	delivered := map[string]bool{}
	for round := range 3 {
		var stderr bytes.Buffer
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childRoundEnv+"="+strconv.Itoa(round))
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Should the child stall, the test fails instead of hanging.
		stall := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
		n := 0
		killed := false
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			kind, key, _ := strings.Cut(sc.Text(), " ")
			switch kind {
			case "A":
				appended[key] = true
				n++
			case "D":
				delivered[key] = true
			}
			if n == 500 && !killed {
				// Mid-stream: sixteen appends and a delivery are under way.
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		err = cmd.Wait()
		stall.Stop()
		if !killed {
			t.Fatalf("round %d: the child stopped after %d appends: %v\n%s", round, n, err, stderr.String())
		}
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: the child ended with %v, not the kill\n%s", round, err, stderr.String())
		}
	}

	var log logBuffer
	s, rec := mustOpen(t, opts(dir, &log))
	recovered := map[string]bool{}
	dups := 0
	for _, r := range drain(t, s) {
		key := recordKey(r.Data)
		if !bytes.Equal(r.Data, crashRecord(key)) {
			t.Errorf("record %d is not what was appended: %.40q", r.ID, r.Data)
		}
		if recovered[key] {
			t.Errorf("record %q recovered twice", key)
		}
		recovered[key] = true
		if delivered[key] {
			dups++
		}
	}
	lost := 0
	for key := range appended {
		if !delivered[key] && !recovered[key] {
			lost++
			if lost <= 10 {
				t.Errorf("record %q was acknowledged to the appender, then lost", key)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged records lost", lost, len(appended))
	}
	if rec.Records != len(recovered) {
		t.Errorf("Recovered.Records = %d; %d handed out", rec.Records, len(recovered))
	}
	t.Logf("3 kills: %d appends acknowledged, %d delivered, %d recovered (%d of them delivered before: duplicates; %d maybe delivered per the spool), %d damaged regions",
		len(appended), len(delivered), len(recovered), dups, rec.MaybeDelivered, rec.Corrupt)
}
