package digest

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"

	"github.com/parleybot/parley"
)

//go:embed templates/digest.html
var templateFS embed.FS

var htmlTemplate = template.Must(template.New("digest.html").Funcs(template.FuncMap{
	"change":   change,
	"pct":      pct,
	"dur":      fmtDur,
	"day":      dayName,
	"num":      fmtNum,
	"platform": platformName,
	"quote":    quote,
	"plural":   plural,
	"sentclass": func(l parley.Label) string {
		switch l {
		case parley.Negative:
			return "neg"
		case parley.Positive:
			return "pos"
		}
		return ""
	},
}).ParseFS(templateFS, "templates/digest.html"))

// HTMLOptions tune HTML.
type HTMLOptions struct {
	// ChartImages references the charts as <img src="cid:NAME.png"> (see
	// ChartImages) instead of inlining SVG: for email, where many clients
	// drop SVG.
	ChartImages bool
}

// ChartImage is one chart as a PNG for an email attachment.
type ChartImage struct {
	Name  string // file name and content id: volume.png, sentiment.png, response.png
	Title string // what it shows, for alt text
	PNG   []byte
}

// ChartImages renders the charts as PNGs.
func (d *Digest) ChartImages() ([]ChartImage, error) {
	var out []ChartImage
	for _, ch := range d.charts() {
		b, err := ch.PNG()
		if err != nil {
			return nil, err
		}
		out = append(out, ChartImage{Name: ch.name + ".png", Title: ch.title, PNG: b})
	}
	return out, nil
}

// SVGs returns the charts as SVG elements by name (volume, sentiment,
// response).
func (d *Digest) SVGs() map[string]string {
	out := map[string]string{}
	for _, ch := range d.charts() {
		out[ch.name] = ch.SVG()
	}
	return out
}

type kpi struct {
	Label, Value, Delta, Class, Note string
}

// HTML renders the digest as one self-contained page (inline CSS, charts
// as inline SVG or, with ChartImages, cid: images) for email and the web.
func (d *Digest) HTML(opts HTMLOptions) (string, error) {
	charts := map[string]template.HTML{}
	for _, ch := range d.charts() {
		if opts.ChartImages {
			charts[ch.name] = template.HTML(fmt.Sprintf(`<img src="cid:%s.png" width="%d" alt="%s">`, //nolint:gosec // G203: a fixed chart name and an escaped title
				ch.name, int(ch.w), template.HTMLEscapeString(ch.title)))
		} else {
			charts[ch.name] = template.HTML(ch.SVG()) //nolint:gosec // built from numbers and escaped labels
		}
	}
	brand := d.Brand
	if brand == "" {
		brand = "Parley"
	}
	view := struct {
		D        *Digest
		Brand    string
		Headline string
		Range    string
		AsOf     string
		KPIs     []kpi
		Charts   map[string]template.HTML
	}{
		D: d, Brand: brand, Headline: d.headline(), Range: weekRange(d.Start, d.End),
		AsOf: d.AsOf.Format("Mon 2 Jan 2006 15:04 MST"), KPIs: d.kpis(), Charts: charts,
	}
	var b bytes.Buffer
	if err := htmlTemplate.Execute(&b, view); err != nil {
		return "", fmt.Errorf("render digest %s: %w", d.Week, err)
	}
	return b.String(), nil
}

// headline says the week in a few words for the page title.
func (d *Digest) headline() string {
	v := d.Volume
	switch {
	case v.Total == 0:
		return "a quiet week"
	case d.Sentiment.Waiting > 0:
		return fmt.Sprintf("%d mentions, %s waiting", v.Total, plural(d.Sentiment.Waiting, "negative thread", "negative threads"))
	}
	return fmt.Sprintf("%d mentions, nothing waiting", v.Total)
}

func (d *Digest) kpis() []kpi {
	v, s, r := d.Volume, d.Sentiment, d.Response
	class := func(delta float64, upIsGood bool) string {
		switch {
		case delta == 0:
			return "flat"
		case (delta > 0) == upIsGood:
			return "good"
		}
		return "bad"
	}
	neg, prevNeg := s.Share(parley.Negative), s.PrevShare(parley.Negative)
	negDelta := float64(int(100*neg+0.5) - int(100*prevNeg+0.5))
	repDelta := float64(int(100*r.ReplyRate()+0.5) - int(100*r.PrevReplyRate()+0.5))
	ks := []kpi{
		{Label: "Mentions", Value: fmt.Sprint(v.Total), Delta: change(v.Total, v.PrevTotal) + " vs last week", Class: "flat",
			Note: fmt.Sprintf("%d last week", v.PrevTotal)},
		{Label: "Negative", Value: pct(neg), Delta: points(neg, prevNeg), Class: class(negDelta, false),
			Note: fmt.Sprintf("%d of %d", s.Counts[parley.Negative], v.Total)},
		{Label: "Replied", Value: pct(r.ReplyRate()), Delta: points(r.ReplyRate(), r.PrevReplyRate()), Class: class(repDelta, true),
			Note: fmt.Sprintf("%d of %d", r.Replied, r.Mentions)},
	}
	first := kpi{Label: "First reply", Value: fmtDur(r.Median), Delta: "median", Class: "flat", Note: "no replies"}
	if r.Replied > 0 {
		first.Note = "90% within " + fmtDur(r.P90)
		if r.PrevReplied > 0 {
			diff := r.Median - r.PrevMedian
			switch {
			case diff < 0:
				first.Delta, first.Class = fmtDur(-diff)+" faster", "good"
			case diff > 0:
				first.Delta, first.Class = fmtDur(diff)+" slower", "bad"
			default:
				first.Delta = "same as last week"
			}
		}
	}
	return append(ks, first)
}
