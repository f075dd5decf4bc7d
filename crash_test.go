package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"claude-otel-gw/internal/capture"
	"claude-otel-gw/internal/testlog"
)

// freeAddr returns a loopback address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// logsBatch is an OTLP/HTTP protobuf logs request of n records with ids from first.
func logsBatch(first int64, n int) []byte {
	sl := &logspb.ScopeLogs{}
	for i := range int64(n) {
		sl.LogRecords = append(sl.LogRecords, &logspb.LogRecord{
			TimeUnixNano: uint64(time.Now().UnixNano()),
			Body:         &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: fmt.Sprintf("record %d of a crash test", first+i)}},
			Attributes: []*commonpb.KeyValue{{
				Key: "test.id", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: first + i}},
			}},
		})
	}
	data, _ := proto.Marshal(&collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{sl}}}})
	return data
}

// gatewayProc is the built binary running with a config.
type gatewayProc struct {
	cmd    *exec.Cmd
	logs   *testlog.Buffer // the process writes it while the test reads it
	exited chan error
}

func startGateway(t *testing.T, env []string, config, adminAddr string) *gatewayProc {
	t.Helper()
	p := &gatewayProc{cmd: exec.Command(binary, "--config", config), logs: &testlog.Buffer{}, exited: make(chan error, 1)}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-p.exited:
			t.Fatalf("gateway exited at start: %v\n%s", err, p.logs.String())
		default:
		}
		resp, err := http.Get("http://" + adminAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("not up after 20s\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashLosesNothingAcknowledged is the delivery guarantee end to end: 20,000 records
// acknowledged while the destination is down, the gateway killed with SIGKILL in the middle of
// the load, restarted, the destination brought back: every acknowledged record arrives.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	env, home := emptyHome(t)
	httpAddr, adminAddr, destAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	config := filepath.Join(home, "gw.toml")
	err := os.WriteFile(config, fmt.Appendf(nil, `
[ingest]
grpc_listen = ""
http_listen = %q
[admin]
listen = %q
[[route]]
name = "all"
redaction = "none"
sinks = ["dest"]
[sink.dest]
type = "otlp"
endpoint = "http://%s"
[sink.dest.retry]
initial_interval = "20ms"
max_interval = "200ms"
`, httpAddr, adminAddr, destAddr), 0o600)
	if err != nil {
		t.Fatal(err)
	}

	gw := startGateway(t, env, config, adminAddr)
	const target, perRequest, senders = 20000, 50, 4
	var (
		next    atomic.Int64
		mu      sync.Mutex
		acked   []int64
		refused atomic.Int64
		wg      sync.WaitGroup
	)
	killed := make(chan struct{})
	client := &http.Client{Timeout: 10 * time.Second}
	for range senders {
		wg.Go(func() {
			for {
				select {
				case <-killed:
					return
				default:
				}
				first := next.Add(perRequest) - perRequest
				resp, err := client.Post("http://"+httpAddr+"/v1/logs", "application/x-protobuf", bytes.NewReader(logsBatch(first, perRequest)))
				if err != nil {
					return // the gateway is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					refused.Add(1)
					continue
				}
				mu.Lock()
				for i := range int64(perRequest) {
					acked = append(acked, first+i)
				}
				mu.Unlock()
			}
		})
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= target {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d records acknowledged in 60s\n%s", n, gw.logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Killed while the senders are still sending: requests in flight are not acknowledged.
	if err := gw.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-gw.exited
	close(killed)
	wg.Wait()
	mu.Lock()
	ids := append([]int64(nil), acked...)
	mu.Unlock()
	if refused.Load() > 0 {
		t.Errorf("%d requests refused while the destination was down: a durable queue accepts until its disk budget is spent", refused.Load())
	}
	t.Logf("%d records acknowledged before the kill", len(ids))

	rc := capture.StartReceiver(t, destAddr)
	gw = startGateway(t, env, config, adminAddr)
	deadline = time.Now().Add(60 * time.Second)
	for {
		missing, dup := rc.Missing("test.id", ids)
		if missing == 0 {
			t.Logf("every acknowledged record arrived after the restart (%d arrived more than once)", dup)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged records never arrived\n%s", missing, len(ids), gw.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := gw.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	select {
	case err := <-gw.exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, gw.logs.String())
		}
	case <-ctx.Done():
		t.Fatalf("still running 15s after SIGTERM")
	}
}
