// Package metrics tells what a site's runners are doing: each runner process
// writes a heartbeat file (its pid, last loop tick and entries processed per
// outcome), and the Prometheus text exposition is built from those files and
// the queue directories, so any one process can export the whole site.
package metrics
