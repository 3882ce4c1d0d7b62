package main

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/mta"
)

// checkSocketmap asks the socketmap service, as Postfix would, for every
// list address and served domain; a service Postfix is set up to ask (its
// main.cf names it) that does not answer is a problem. It also compares
// mta_lists_file with the lists. It reports whether it found either.
func checkSocketmap(r *checkReport, s *site.Site, addrs []string, postfixDir string, timeout time.Duration) bool {
	found := false
	if f := s.Config.MTAListsFile; f != "" {
		found = true
		compareMap(r, f, addrs, "any list create or delete rewrites it; check that the cloister user can write its directory")
	}
	listen := s.Config.SocketmapListen
	table := mta.SocketmapTable(listen, "")
	mainCF, _ := os.ReadFile(filepath.Join(postfixDir, "main.cf"))
	asked := strings.Contains(string(mainCF), table)
	network := "tcp"
	if filepath.IsAbs(listen) {
		network = "unix"
	}
	c, err := net.DialTimeout(network, listen, timeout)
	if err != nil {
		if asked {
			r.problem("MTA maps", "Postfix asks the socketmap at %s, which does not answer (%v): start cloister-socketmap (or cloister runners --socketmap); meanwhile Postfix defers list mail", listen, err)
			return true
		}
		return found
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	rd := bufio.NewReader(c)
	ask := func(req string) string {
		if _, err := c.Write(mta.Netstring([]byte(req))); err != nil {
			return "TEMP " + err.Error()
		}
		b, err := mta.ReadNetstring(rd, 100000)
		if err != nil {
			return "TEMP " + err.Error()
		}
		return string(b)
	}
	bad := 0
	for _, d := range s.Config.ServedDomains() {
		if got := ask(mta.MapDomains + " " + d); !strings.HasPrefix(got, "OK ") {
			r.problem("MTA maps", "the socketmap at %s does not serve the domain %s (%s)", listen, d, got)
			bad++
		}
	}
	for _, a := range addrs {
		if got := ask(mta.MapRecipients + " " + a); !strings.HasPrefix(got, "OK ") {
			r.problem("MTA maps", "the socketmap at %s refuses the list %s (%s): restart it", listen, a, got)
			bad++
		}
	}
	if bad == 0 {
		r.ok("MTA maps", "the socketmap at %s answers for %d lists in %s", listen, len(addrs), strings.Join(s.Config.ServedDomains(), ", "))
	}
	if !asked && postfixDir != "" && len(mainCF) > 0 {
		r.note("MTA maps", "%s/main.cf does not ask the socketmap (cloister aliases --mta postfix prints the lines)", postfixDir)
	}
	return true
}
