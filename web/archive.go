package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"cloister/service"
)

func archivePath(list string) string { return listPath(list) + "/archive" }

// thread is a conversation: its messages in date order.
type thread struct {
	Subject string
	Items   []service.ArchiveItem
}

// month is the messages of one month.
type month struct {
	Name  string // YYYY-MM
	Items []service.ArchiveItem
}

// archiveIndex browses a list's archive by month (newest first) or by
// thread, or searches its senders and subjects.
func (srv *Server) archiveIndex(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	idx, err := srv.svc.ArchiveBrowse(r.Context(), s.actor(), service.ArchiveRequest{List: list})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	items := idx.Items
	if q != "" && !idx.Encrypted {
		lq := strings.ToLower(q)
		var kept []service.ArchiveItem
		for _, it := range items {
			if strings.Contains(strings.ToLower(it.Subject), lq) || strings.Contains(strings.ToLower(it.From), lq) {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	view := r.URL.Query().Get("view")
	data := map[string]any{"List": idx.List, "Encrypted": idx.Encrypted, "Query": q, "View": view, "Count": len(items)}
	if view == "thread" && !idx.Encrypted {
		data["Threads"] = threads(items)
	} else {
		data["Months"] = months(items)
	}
	srv.render(w, r, s, http.StatusOK, "archive", "Archive of "+idx.List, data)
}

// months groups items by month, newest month first, oldest first within.
func months(items []service.ArchiveItem) []month {
	var out []month
	for i := len(items) - 1; i >= 0; i-- {
		name := items[i].Time.UTC().Format("2006-01")
		if len(out) == 0 || out[len(out)-1].Name != name {
			out = append(out, month{Name: name})
		}
		m := &out[len(out)-1]
		m.Items = append([]service.ArchiveItem{items[i]}, m.Items...)
	}
	return out
}

// threads groups items into conversations: a message joins the thread of
// the first message it names (References, then In-Reply-To) that is in
// the archive; threads are ordered by their latest message, newest first.
func threads(items []service.ArchiveItem) []thread {
	root := map[string]string{} // message-id -> root message-id
	byRoot := map[string]*thread{}
	var order []string
	latest := map[string]int{}
	for i, it := range items {
		r := ""
		for _, ref := range append(append([]string{}, it.References...), it.InReplyTo) {
			if rr, ok := root[ref]; ok {
				r = rr
				break
			}
		}
		id := it.MessageID
		if id == "" {
			id = "#" + strconv.Itoa(it.N)
		}
		if r == "" {
			r = id
			byRoot[r] = &thread{Subject: it.Subject}
			order = append(order, r)
		}
		root[id] = r
		byRoot[r].Items = append(byRoot[r].Items, it)
		latest[r] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return latest[order[a]] > latest[order[b]] })
	out := make([]thread, 0, len(order))
	for _, r := range order {
		out = append(out, *byRoot[r])
	}
	return out
}

// archiveMessage shows one message of a plaintext archive: its text as
// text, its HTML sanitised, its other parts as downloads.
func (srv *Server) archiveMessage(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		srv.fail(w, r, s, http.StatusNotFound, "There is no such message.")
		return
	}
	m, err := srv.svc.ArchiveMessage(r.Context(), s.actor(), service.ArchiveRef{List: list, N: n})
	if service.Code(err) == service.CodeConflict {
		srv.render(w, r, s, http.StatusOK, "archivesealed", "Archived message", map[string]any{"List": list, "N": n})
		return
	}
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	parts, err := renderParts(m.Raw)
	if err != nil {
		srv.log.Warn("archived message not fully rendered", "list", list, "n", n, "err", err)
	}
	srv.render(w, r, s, http.StatusOK, "message", m.Subject, map[string]any{"List": list, "Msg": m.ArchiveItem, "Parts": parts})
}

// archivePart downloads one part of an archived message, always as an
// attachment of a neutral type (never rendered by the browser).
func (srv *Server) archivePart(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	n, err1 := strconv.Atoi(r.PathValue("n"))
	i, err2 := strconv.Atoi(r.PathValue("i"))
	if err1 != nil || err2 != nil {
		srv.fail(w, r, s, http.StatusNotFound, "There is no such part.")
		return
	}
	m, err := srv.svc.ArchiveMessage(r.Context(), s.actor(), service.ArchiveRef{List: list, N: n})
	if err != nil {
		srv.serviceFail(w, r, s, err)
		return
	}
	parts, _ := renderParts(m.Raw)
	if i < 0 || i >= len(parts) {
		srv.fail(w, r, s, http.StatusNotFound, "There is no such part.")
		return
	}
	download(w, service.Export{ContentType: "application/octet-stream", Data: parts[i].data}, attachmentName(parts[i]))
}

// archiveMailMe mails one archived message to the session's address;
// from an encrypted archive it goes only encrypted to the address's key.
func (srv *Server) archiveMailMe(w http.ResponseWriter, r *http.Request, s *session) {
	list := r.PathValue("list")
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil {
		srv.fail(w, r, s, http.StatusNotFound, "There is no such message.")
		return
	}
	if !srv.mailAllowed(w, r, s, srv.mails) {
		return
	}
	err = srv.svc.ArchiveMailMe(r.Context(), s.actor(), service.ArchiveRef{List: list, N: n})
	srv.done(w, r, s, archivePath(list), "Message "+strconv.Itoa(n)+" is on its way to you.", err)
}
