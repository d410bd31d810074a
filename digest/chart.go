package digest

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang/freetype/truetype"
	"github.com/wcharczuk/go-chart/v2/drawing"
	"github.com/wcharczuk/go-chart/v2/roboto"

	"github.com/parleybot/parley"
)

// The charts are drawn once, on a tiny canvas interface with two
// backends: SVG text for the HTML and a raster (go-chart's drawing
// package, Roboto) for the PNG attachments. Both show the same thing.

// Colours.
const (
	colInk      = "#0f172a"
	colMuted    = "#64748b"
	colGrid     = "#e2e8f0"
	colPrev     = "#cbd5e1"
	colNegative = "#e11d48"
	colNeutral  = "#94a3b8"
	colPositive = "#16a34a"
	colOnTime   = "#0d9488"
	colLate     = "#f59e0b"
)

var platformColors = map[string]string{
	parley.PlatformMastodon: "#6366f1",
	parley.PlatformDiscord:  "#0ea5e9",
}

var otherPlatformColors = []string{"#a855f7", "#f97316", "#14b8a6", "#84cc16"}

func labelColor(l parley.Label) string {
	switch l {
	case parley.Negative:
		return colNegative
	case parley.Positive:
		return colPositive
	}
	return colNeutral
}

type anchor int

const (
	start anchor = iota
	middle
	end
)

// canvas is what a chart draws on. Coordinates are in points; y grows
// downwards; text is placed by its baseline.
type canvas interface {
	rect(x, y, w, h float64, fill string)
	line(x1, y1, x2, y2 float64, stroke string, width float64, dashed bool)
	text(x, y float64, s string, size float64, fill string, a anchor, bold bool)
}

// chart is one drawing with its size and a title for screen readers.
type chart struct {
	name  string // file name stem: volume, sentiment, response
	title string
	w, h  float64
	draw  func(c canvas)
}

// Charts returns the digest's charts: volume by day, sentiment share and
// the response-time distribution, in that order.
func (d *Digest) charts() []chart {
	return []chart{d.volumeChart(), d.sentimentChart(), d.responseChart()}
}

// ---- SVG ----

type svgCanvas struct{ b strings.Builder }

func f1(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

func (s *svgCanvas) rect(x, y, w, h float64, fill string) {
	if w <= 0 || h <= 0 {
		return
	}
	fmt.Fprintf(&s.b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`, f1(x), f1(y), f1(w), f1(h), fill)
}

func (s *svgCanvas) line(x1, y1, x2, y2 float64, stroke string, width float64, dashed bool) {
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="4 3"`
	}
	fmt.Fprintf(&s.b, `<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="%s" stroke-width="%s"%s/>`,
		f1(x1), f1(y1), f1(x2), f1(y2), stroke, f1(width), dash)
}

func (s *svgCanvas) text(x, y float64, t string, size float64, fill string, a anchor, bold bool) {
	attrs := ""
	switch a {
	case middle:
		attrs = ` text-anchor="middle"`
	case end:
		attrs = ` text-anchor="end"`
	}
	if bold {
		attrs += ` font-weight="600"`
	}
	fmt.Fprintf(&s.b, `<text x="%s" y="%s" font-size="%s" fill="%s"%s>%s</text>`, f1(x), f1(y), f1(size), fill, attrs, html.EscapeString(t))
}

// SVG renders ch as a self-contained SVG element (no XML prolog), sized
// to scale down with its container.
func (ch chart) SVG() string {
	var s svgCanvas
	fmt.Fprintf(&s.b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" width="%s" height="%s" role="img" aria-label="%s" `+
		`style="max-width:100%%;height:auto" font-family="-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif">`,
		f1(ch.w), f1(ch.h), f1(ch.w), f1(ch.h), html.EscapeString(ch.title))
	fmt.Fprintf(&s.b, `<title>%s</title>`, html.EscapeString(ch.title))
	ch.draw(&s)
	s.b.WriteString(`</svg>`)
	return s.b.String()
}

// ---- PNG ----

var defaultFont = sync.OnceValues(func() (*truetype.Font, error) { return truetype.Parse(roboto.Roboto) })

type pngCanvas struct {
	gc    *drawing.RasterGraphicContext
	scale float64
	err   error // the first text that could not be drawn
}

func hexColor(s string) drawing.Color { return drawing.ColorFromHex(strings.TrimPrefix(s, "#")) }

func (p *pngCanvas) rect(x, y, w, h float64, fill string) {
	if w <= 0 || h <= 0 {
		return
	}
	k := p.scale
	p.gc.SetFillColor(hexColor(fill))
	p.gc.MoveTo(x*k, y*k)
	p.gc.LineTo((x+w)*k, y*k)
	p.gc.LineTo((x+w)*k, (y+h)*k)
	p.gc.LineTo(x*k, (y+h)*k)
	p.gc.Close()
	p.gc.Fill()
}

func (p *pngCanvas) line(x1, y1, x2, y2 float64, stroke string, width float64, dashed bool) {
	k := p.scale
	p.gc.SetStrokeColor(hexColor(stroke))
	p.gc.SetLineWidth(width * k)
	if dashed {
		p.gc.SetLineDash([]float64{4 * k, 3 * k}, 0)
	} else {
		p.gc.SetLineDash(nil, 0)
	}
	p.gc.MoveTo(x1*k, y1*k)
	p.gc.LineTo(x2*k, y2*k)
	p.gc.Stroke()
	p.gc.SetLineDash(nil, 0)
}

func (p *pngCanvas) text(x, y float64, s string, size float64, fill string, a anchor, _ bool) {
	k := p.scale
	p.gc.SetFontSize(size * k)
	p.gc.SetFillColor(hexColor(fill))
	if a != start {
		l, _, r, _, err := p.gc.GetStringBounds(s)
		if err == nil {
			w := r - l
			if a == middle {
				x -= w / 2 / k
			} else {
				x -= w / k
			}
		}
	}
	if _, err := p.gc.CreateStringPath(s, x*k, y*k); err != nil {
		if p.err == nil {
			p.err = fmt.Errorf("draw %q: %w", s, err)
		}
		return
	}
	p.gc.Fill()
}

// PNG renders ch as a PNG at twice its size (sharp on high-density
// screens), on white.
func (ch chart) PNG() ([]byte, error) {
	const scale = 2
	font, err := defaultFont()
	if err != nil {
		return nil, fmt.Errorf("chart font: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, int(ch.w*scale), int(ch.h*scale)))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	gc, err := drawing.NewRasterGraphicContext(img)
	if err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.name, err)
	}
	gc.SetDPI(72)
	gc.SetFont(font)
	c := &pngCanvas{gc: gc, scale: scale}
	ch.draw(c)
	if c.err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.name, c.err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("chart %s: %w", ch.name, err)
	}
	return buf.Bytes(), nil
}

// ---- the charts ----

// niceMax rounds a maximum up so that four ticks fall on clean numbers
// (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten).
func niceMax(v int) int {
	for mag := 1; ; mag *= 10 {
		for _, s := range []int{10, 12, 15, 20, 25, 30, 40, 50, 60, 80} {
			if step := s * mag / 10; step > 0 && 4*step >= v {
				return 4 * step
			}
		}
	}
}

func (d *Digest) platformColor(p string) string {
	if c, ok := platformColors[p]; ok {
		return c
	}
	i := 0
	for _, pc := range d.Volume.Platforms {
		if _, known := platformColors[pc.Platform]; known {
			continue
		}
		if pc.Platform == p {
			return otherPlatformColors[i%len(otherPlatformColors)]
		}
		i++
	}
	return colNeutral
}

// legend draws coloured squares with labels from x at baseline y and
// returns where it ended.
func legend(c canvas, x, y float64, items [][2]string) float64 {
	for _, it := range items {
		c.rect(x, y-8, 9, 9, it[1])
		c.text(x+13, y, it[0], 11, colMuted, start, false)
		x += 13 + 6.2*float64(len([]rune(it[0]))) + 16
	}
	return x
}

func (d *Digest) volumeChart() chart {
	const w, h = 640.0, 230.0
	return chart{name: "volume", title: "Mentions by day and platform, with last week in grey", w: w, h: h, draw: func(c canvas) {
		const left, right, top, bottom = 34.0, 8.0, 40.0, 30.0
		var items [][2]string
		for _, p := range d.Volume.Platforms {
			if p.Count > 0 {
				items = append(items, [2]string{platformName(p.Platform), d.platformColor(p.Platform)})
			}
		}
		items = append(items, [2]string{"last week", colPrev})
		legend(c, left, 16, items)
		maxV := 0
		for _, day := range d.Volume.Days {
			maxV = max(maxV, day.Count, day.PrevCount)
		}
		ymax := niceMax(maxV)
		ph := h - top - bottom
		y := func(v float64) float64 { return top + ph - ph*v/float64(ymax) }
		for i := 0; i <= 4; i++ {
			v := ymax * i / 4
			c.line(left, y(float64(v)), w-right, y(float64(v)), colGrid, 1, false)
			c.text(left-6, y(float64(v))+4, strconv.Itoa(v), 10, colMuted, end, false)
		}
		gw := (w - left - right) / 7
		spikes := map[time.Time]bool{}
		for _, sp := range d.Volume.Spikes {
			spikes[sp.Date] = true
		}
		for i, day := range d.Volume.Days {
			gx := left + gw*float64(i)
			pw, bw := gw*0.2, gw*0.42
			px := gx + gw*0.14
			bx := px + pw + gw*0.04
			c.rect(px, y(float64(day.PrevCount)), pw, y(0)-y(float64(day.PrevCount)), colPrev)
			acc := 0
			for _, p := range d.Volume.Platforms {
				n := day.ByPlatform[p.Platform]
				if n == 0 {
					continue
				}
				c.rect(bx, y(float64(acc+n)), bw, y(float64(acc))-y(float64(acc+n)), d.platformColor(p.Platform))
				acc += n
			}
			if day.Count > 0 {
				col := colInk
				if spikes[day.Date] {
					col = colNegative
				}
				c.text(bx+bw/2, y(float64(day.Count))-5, strconv.Itoa(day.Count), 11, col, middle, true)
			}
			label := day.Date.Format("Mon 2")
			col := colMuted
			if spikes[day.Date] {
				col = colNegative
			}
			c.text(gx+gw/2, h-bottom+18, label, 11, col, middle, spikes[day.Date])
		}
		c.line(left, y(0), w-right, y(0), colMuted, 1, false)
		if d.Volume.Total == 0 && d.Volume.PrevTotal == 0 {
			c.text(w/2, top+ph/2, "No mentions this week or the week before", 13, colMuted, middle, false)
		}
	}}
}

func (d *Digest) sentimentChart() chart {
	const w, h = 640.0, 124.0
	return chart{name: "sentiment", title: "Share of negative, neutral and positive mentions, this week and last week", w: w, h: h, draw: func(c canvas) {
		const left, right = 78.0, 8.0
		legend(c, left, 16, [][2]string{{"negative", colNegative}, {"neutral", colNeutral}, {"positive", colPositive}})
		rows := []struct {
			label  string
			counts map[parley.Label]int
		}{{"This week", d.Sentiment.Counts}, {"Last week", d.Sentiment.PrevCounts}}
		for i, r := range rows {
			y := 34 + float64(i)*44
			c.text(left-10, y+20, r.label, 12, colInk, end, i == 0)
			total := 0
			for _, n := range r.counts {
				total += n
			}
			bw := w - left - right
			if total == 0 {
				c.rect(left, y, bw, 30, colGrid)
				c.text(left+bw/2, y+20, "no mentions", 11, colMuted, middle, false)
				continue
			}
			x := left
			for _, l := range parley.Labels {
				sw := bw * float64(r.counts[l]) / float64(total)
				c.rect(x, y, sw, 30, labelColor(l))
				if sw >= 34 {
					c.text(x+sw/2, y+20, pct(float64(r.counts[l])/float64(total)), 12, "#ffffff", middle, true)
				}
				x += sw
			}
		}
	}}
}

// targetX places the response target on the bucket axis: bucket i spans
// [i, i+1); inside a bucket the position is linear in time.
func targetX(target time.Duration) float64 {
	lo := time.Duration(0)
	for i, b := range bucketBounds {
		if b.max == 0 {
			return float64(i) + 0.5
		}
		if target <= b.max {
			return float64(i) + float64(target-lo)/float64(b.max-lo)
		}
		lo = b.max
	}
	return float64(len(bucketBounds))
}

func (d *Digest) responseChart() chart {
	const w, h = 640.0, 210.0
	return chart{name: "response", title: "Time to first reply: how many mentions were answered within each range", w: w, h: h, draw: func(c canvas) {
		const left, right, top, bottom = 34.0, 8.0, 40.0, 30.0
		target := d.ResponseTarget
		legend(c, left, 16, [][2]string{{"within " + fmtDur(target), colOnTime}, {"later", colLate}})
		bs := d.Response.Buckets
		maxV := 0
		for _, b := range bs {
			maxV = max(maxV, b.Count)
		}
		ymax := niceMax(maxV)
		ph := h - top - bottom
		y := func(v float64) float64 { return top + ph - ph*v/float64(ymax) }
		for i := 0; i <= 4; i++ {
			v := ymax * i / 4
			c.line(left, y(float64(v)), w-right, y(float64(v)), colGrid, 1, false)
			c.text(left-6, y(float64(v))+4, strconv.Itoa(v), 10, colMuted, end, false)
		}
		gw := (w - left - right) / float64(len(bs))
		for i, b := range bs {
			gx := left + gw*float64(i)
			bw := gw * 0.6
			bx := gx + (gw-bw)/2
			col := colOnTime
			if b.Max == 0 || b.Max > target {
				col = colLate
			}
			c.rect(bx, y(float64(b.Count)), bw, y(0)-y(float64(b.Count)), col)
			if b.Count > 0 {
				c.text(bx+bw/2, y(float64(b.Count))-5, strconv.Itoa(b.Count), 11, colInk, middle, true)
			}
			c.text(gx+gw/2, h-bottom+18, b.Label, 11, colMuted, middle, false)
		}
		c.line(left, y(0), w-right, y(0), colMuted, 1, false)
		if d.Response.Replied == 0 {
			c.text(w/2, top+ph/2, "No replies were sent this week", 13, colMuted, middle, false)
			return
		}
		tx := left + gw*targetX(target)
		c.line(tx, top-6, tx, y(0), colInk, 1, true)
		c.text(tx+4, top-1, "target "+fmtDur(target), 10, colInk, start, false)
	}}
}
