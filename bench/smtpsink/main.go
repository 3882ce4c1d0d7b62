// Command smtpsink is a fast discarding SMTP server for bench/fanout-e2e.sh
// and bench/latency.sh: a minimal SMTP state machine (server.go) written
// for speed, not go-smtp's server, whose DATA reader takes one byte at a
// time and cost the sink more CPU per copy than the runner spends making it.
// It offers PIPELINING, CHUNKING and 8BITMIME, accepts every recipient,
// reads each session's bytes in 256 KB reads and scans them in bulk: a
// message sent with DATA for its terminating CRLF.CRLF (bytes.Index), a
// BDAT chunk by its size. It still checks that every message ends
// properly (the dot line after DATA; after BDAT, the LAST chunk's declared
// bytes all read: a session that ends before is not counted) and that
// commands come in order (MAIL, RCPT, then DATA or BDAT; else 503 and bad
// counted), answers pipelined commands in
// one write, keeps nothing, and counts the copies each recipient got. On
// SIGTERM or SIGINT it prints one line of counts:
//
//	smtpsink: sessions 1 messages 1000 recipients 1000 distinct 1000 duplicated 0 bytes 71234567 bad 0
//
// distinct is the number of recipients that got a copy, duplicated those
// that got more than one, bad the commands refused (out of order, a
// message that did not end properly).
//
// With -save FILE it writes the first message sent with DATA to FILE, with
// LF line ends and not dot-stuffed, the form smtp-source -F sends: the
// bench's smtp-source runs with a real copy.
//
// With -stamps it also prints, as each message is accepted, a line with the
// time (Unix nanoseconds) and its recipient count, for bench/latency.sh:
//
//	stamp 1764640000123456789 1
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:2525", "address to listen on")
	stamps := flag.Bool("stamps", false, "print a line with the time of each message accepted")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the sink to this file (stopped on SIGTERM)")
	save := flag.String("save", "", "write the first message sent with DATA to this file, as smtp-source -F sends a file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatalf("smtpsink: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatalf("smtpsink: %v", err)
		}
	}
	c := newCounts(*stamps)
	c.saveTo = *save
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("smtpsink: %v", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		fmt.Println(c.line())
		os.Exit(0)
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatalf("smtpsink: %v", err)
		}
		go serve(c, conn)
	}
}
