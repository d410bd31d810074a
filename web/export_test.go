package web

import (
	"errors"
	"html/template"
)

// LocalPath exposes localPath to the external tests.
var LocalPath = localPath

// BreakFragments makes every inbox fragment (card, message) fail to
// render, so tests can see that a render failure reaches the client.
// Call it between requests, never while one is being served.
func BreakFragments(s *Server) {
	fail := template.FuncMap{"fail": func() (string, error) { return "", errors.New("broken template") }}
	s.views.pages["inbox"] = template.Must(template.New("inbox").Funcs(fail).Parse(
		`{{define "card"}}{{fail}}{{end}}{{define "message"}}{{fail}}{{end}}`))
}
