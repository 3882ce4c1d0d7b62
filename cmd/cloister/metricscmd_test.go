package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"cloister/runners"
)

// TestRunnersServeMetrics starts `cloister runners` with metrics_listen set
// and scrapes it until every runner is up; `metrics --once` prints the same
// families.
func TestRunnersServeMetrics(t *testing.T) {
	cfg := newSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "metrics_listen = %q\n", addr)
	f.Close()

	a := &app{}
	root := a.rootCmd()
	root.SetArgs([]string{"--log-level", "error", "--config", cfg, "runners", "--in-process"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()

	var body string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
			if strings.Count(body, "} 1\n") >= len(runners.All) && strings.Contains(body, "cloister_runner_up{runner=\"bounce\"") {
				break
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, r := range runners.All {
		want := fmt.Sprintf("cloister_runner_up{runner=%q,slice=\"0/1\"} 1\n", r.Name())
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	if !strings.Contains(body, `cloister_queue_entries{queue="in",state="pending"} 0`) {
		t.Errorf("scrape lacks the in queue:\n%s", body)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runners: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runners did not stop")
	}
	out, err := cli(t, "--config", cfg, "metrics", "--once")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "# TYPE cloister_runner_processed_total counter") || strings.Contains(out, "cloister_runner_up{") {
		t.Errorf("metrics --once after the runners stopped:\n%s", out)
	}
}
