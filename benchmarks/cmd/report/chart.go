package main

import (
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// libColor gives every library the same colour in every chart.
func libColor(lib string) color.Color {
	// In libOrder's order.
	palette := []color.RGBA{
		{0x8c, 0x8c, 0x8c, 0xff}, // raw: grey
		{0x4d, 0x4d, 0x4d, 0xff}, // raw-prepared: dark grey
		{0xd6, 0x27, 0x28, 0xff}, // sqlgen: red
		{0x8b, 0x1a, 0x1a, 0xff}, // sqlgen-stmtcache: dark red
		{0xff, 0x7f, 0x0e, 0xff}, // sqlgen-gojson: orange
		{0x1f, 0x77, 0xb4, 0xff}, // sqlx: blue
		{0x2c, 0xa0, 0x2c, 0xff}, // gorm: green
		{0x94, 0x67, 0xbd, 0xff}, // bun: purple
	}
	if i := slices.Index(libOrder, lib); i >= 0 && i < len(palette) {
		return palette[i]
	}
	return color.RGBA{0x17, 0xbe, 0xcf, 0xff}
}

// chart draws one panel per operation, one bar per library, of metric
// ("ns" or "allocs") on backend, to path.svg and path.png.
func (r *results) chart(backend, metric, path string) error {
	ops := r.ops(backend)
	const cols = 3
	rows := (len(ops) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
	}
	unit := map[string]string{"ns": "ns/op", "allocs": "allocs/op"}[metric]
	for i, op := range ops {
		p := plot.New()
		p.Title.Text = op
		p.Title.TextStyle.Font.Size = vg.Points(11)
		p.Y.Label.Text = unit
		p.Y.Label.TextStyle.Font.Size = vg.Points(8)
		p.Y.Tick.Label.Font.Size = vg.Points(7)
		p.X.Tick.Label.Font.Size = vg.Points(8)
		p.X.Tick.Label.Rotation = math.Pi / 5
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
		libs := r.libs(backend, op)
		var labels plotter.XYLabels
		top := 0.0
		for j, lib := range libs {
			s, _ := r.get(backend, op, lib)
			v := s.ns
			if metric == "allocs" {
				v = s.allocs
			}
			top = math.Max(top, v)
			bc, err := plotter.NewBarChart(plotter.Values{v}, vg.Points(16))
			if err != nil {
				return err
			}
			bc.XMin = float64(j)
			bc.Color = libColor(lib)
			bc.LineStyle.Width = 0
			p.Add(bc)
			labels.XYs = append(labels.XYs, plotter.XY{X: float64(j), Y: v})
			labels.Labels = append(labels.Labels, short(v, metric))
		}
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return err
		}
		for k := range l.TextStyle {
			l.TextStyle[k].Font.Size = vg.Points(6.5)
			l.TextStyle[k].XAlign = draw.XCenter
			l.Offset = vg.Point{Y: vg.Points(2)}
		}
		p.Add(l)
		p.NominalX(libs...)
		p.Y.Min = 0
		p.Y.Max = top * 1.15
		p.Y.Tick.Marker = humanTicks{metric}
		grid[i/cols][i%cols] = p
	}
	for i := len(ops); i < rows*cols; i++ {
		p := plot.New()
		p.HideAxes()
		grid[i/cols][i%cols] = p
	}
	w, h := vg.Points(900), vg.Points(float64(260*rows)+40)
	title := fmt.Sprintf("%s backend — %s (median; lower is better)", backend, unit)
	render := func(c draw.Canvas) {
		tStyle := plot.New().Title.TextStyle
		tStyle.Font = font.From(plot.DefaultFont, vg.Points(13))
		tStyle.XAlign, tStyle.YAlign = draw.XCenter, draw.YTop
		c.FillText(tStyle, vg.Point{X: w / 2, Y: h - vg.Points(8)}, title)
		body := draw.Crop(c, 0, 0, 0, -vg.Points(34))
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(14), PadY: vg.Points(14), PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(6), PadRight: vg.Points(6)}
		canvases := plot.Align(grid, tiles, body)
		for i := range grid {
			for j := range grid[i] {
				grid[i][j].Draw(canvases[i][j])
			}
		}
	}
	svg := vgsvg.New(w, h)
	render(draw.New(svg))
	if err := writeTo(path+".svg", svg.WriteTo); err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110), vgimg.UseBackgroundColor(color.White))
	render(draw.New(img))
	return writeTo(path+".png", vgimg.PngCanvas{Canvas: img}.WriteTo)
}

func writeTo(path string, write func(w io.Writer) (int64, error)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func short(v float64, metric string) string {
	if metric == "allocs" {
		return fmtNum(v)
	}
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.1fms", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fµs", v/1e3)
	}
	return fmt.Sprintf("%.0fns", v)
}

// humanTicks labels the y axis with µs/ms for times.
type humanTicks struct{ metric string }

func (t humanTicks) Ticks(min, max float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(min, max)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = short(ticks[i].Value, t.metric)
		}
	}
	return ticks
}
