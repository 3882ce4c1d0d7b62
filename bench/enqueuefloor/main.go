// Command enqueuefloor is the floor deliver is measured against by
// bench/deliver.sh: the least a durable enqueue does, with nothing else
// (no configuration, no list check, no metadata). It reads stdin into a
// temporary file in the folder given, fsyncs it, renames it into place and
// fsyncs the folder.
//
//	enqueuefloor DIR < message
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: enqueuefloor DIR < message")
		os.Exit(64)
	}
	if err := enqueue(os.Args[1], os.Stdin); err != nil {
		fmt.Fprintf(os.Stderr, "enqueuefloor: %v\n", err)
		os.Exit(75)
	}
}

func enqueue(dir string, r io.Reader) error {
	name := strconv.FormatInt(time.Now().UnixNano(), 10) + "." + strconv.Itoa(os.Getpid())
	tmp := filepath.Join(dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name+".msg")); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
