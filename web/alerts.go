package web

import (
	"context"
	"net/http"

	"github.com/parleybot/parley"
)

// AlertLister lists raised alerts (parley.AlertStore has it).
type AlertLister interface {
	Alerts(ctx context.Context, f parley.AlertFilter) ([]parley.Alert, error)
}

// alertsView is the alerts page's data.
type alertsView struct {
	Alerts []alertRow
	Kind   string
	Kinds  []alertKind
}

type alertRow struct {
	parley.Alert
	KindTitle string
}

type alertKind struct{ Kind, Title string }

const alertsPage = 200

// alerts lists the real-time alerts, newest first, by kind; every user
// may read them (an agent answers the overdue conversation).
func (s *Server) alerts(w http.ResponseWriter, r *http.Request) {
	v := alertsView{Kind: r.URL.Query().Get("kind")}
	for _, k := range parley.AlertKinds() {
		v.Kinds = append(v.Kinds, alertKind{k, parley.AlertKindTitle(k)})
	}
	if s.opts.Alerts != nil {
		as, err := s.opts.Alerts.Alerts(r.Context(), parley.AlertFilter{Kind: v.Kind, Limit: alertsPage})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range as {
			v.Alerts = append(v.Alerts, alertRow{Alert: a, KindTitle: parley.AlertKindTitle(a.Kind)})
		}
	}
	s.render(w, r, http.StatusOK, "alerts", "Alerts", "alerts", v)
}
