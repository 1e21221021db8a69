//! Pictures: spot prices with each policy's bid, a backtest's launches, a debate's happiness.
//! PNG or SVG by the file's extension (plotters, no browser); text is drawn with the embedded
//! DejaVu Sans so a PNG looks the same on every machine.

use std::path::Path;
use std::sync::Once;

use jiff::Timestamp;
use plotters::chart::{ChartContext, MeshStyle};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::spot::Policy;
use crate::spot::backtest;
use crate::spot::history::micros_to_dollars;
use crate::spot::series::History;
use crate::spot::stats::{ZoneStats, zone_stats};
use crate::units::{Duration, InstanceType};

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Colours that stay apart for people with the common colour-vision deficiencies (Okabe-Ito),
/// then a few more.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(100, 100, 100),
    RGBColor(170, 40, 40),
    RGBColor(120, 80, 20),
    RGBColor(40, 40, 140),
];

fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

fn policy_colour(p: Policy) -> RGBColor {
    match p {
        Policy::Seed => RGBColor(213, 94, 0),
        Policy::OnDemand => RGBColor(100, 100, 100),
        Policy::Dw => RGBColor(0, 114, 178),
        Policy::Climb => RGBColor(0, 158, 115),
        Policy::Calm => RGBColor(204, 121, 167),
        Policy::CalmDay => RGBColor(240, 228, 66),
        Policy::P95Week => RGBColor(230, 159, 0),
        Policy::WorstHour => RGBColor(86, 180, 233),
    }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary: failing to read it is a build defect, and plotters
        // then falls back to drawing no text rather than failing.
        let _ = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT);
    });
}

type Drawn = std::result::Result<(), String>;

/// Draws with `draw` on an SVG or PNG of `size`, by `path`'s extension.
fn render(
    path: &Path,
    size: (u32, u32),
    draw_svg: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
    draw_png: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Drawn,
) -> Result<()> {
    register_font();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let drawn = match ext.as_deref() {
        Some("svg") => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            draw_svg(&root).and_then(|()| root.present().map_err(|e| e.to_string()))
        }
        Some("png") => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            draw_png(&root).and_then(|()| root.present().map_err(|e| e.to_string()))
        }
        _ => {
            return Err(Error::input_with_hint(
                format!("{}: dw draws .svg or .png files", path.display()),
                "name the plot file with one of those extensions",
            ));
        }
    };
    drawn.map_err(|e| Error::Failed(format!("cannot draw {}: {e}", path.display())))
}

/// Calls `$draw(&root, args...)` for whichever backend the path's extension picks.
macro_rules! draw_to {
    ($path:expr, $size:expr, $draw:ident, $($arg:expr),*) => {
        render(
            $path,
            $size,
            |root| $draw(root, $($arg),*),
            |root| $draw(root, $($arg),*),
        )
    };
}

fn hours_between(a: Timestamp, b: Timestamp) -> f64 {
    (b.as_millisecond() - a.as_millisecond()) as f64 / 3_600_000.0
}

fn at_hours(start: Timestamp, h: f64) -> Timestamp {
    Timestamp::from_millisecond(start.as_millisecond() + (h * 3_600_000.0) as i64).unwrap_or(start)
}

/// Time labels: the day only when the range spans days.
fn time_label(start: Timestamp, span_hours: f64) -> impl Fn(&f64) -> String {
    move |h: &f64| {
        let t = at_hours(start, *h);
        if span_hours > 72.0 {
            t.strftime("%m-%d").to_string()
        } else if span_hours > 24.0 {
            t.strftime("%m-%d %H:%M").to_string()
        } else {
            t.strftime("%H:%M").to_string()
        }
    }
}

fn legend_line(colour: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(width))
}

/// The axes every chart shares: time along x (`x_label` formats hours since the start), the
/// fonts, a light grid. The caller adds what is particular to its y axis, then draws.
fn mesh<'a, 'b, DB, Y>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, Y>>,
    x_desc: &str,
    y_desc: &str,
    x_label: &'b dyn Fn(&f64) -> String,
) -> MeshStyle<'a, 'b, RangedCoordf64, Y, DB>
where
    DB: DrawingBackend,
    Y: Ranged + plotters::coord::ranged1d::ValueFormatter<<Y as Ranged>::ValueType>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(10)
        .x_label_formatter(x_label)
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 16))
        .light_line_style(RGBColor(235, 235, 235));
    mesh
}

/// A legend box in `position`.
fn legend<'a, 'b, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &'b mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Drawn {
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, 14))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(180, 180, 180))
        .draw()
        .map_err(|e| e.to_string())
}

// ---------------------------------------------------------------------------------------------
// Spot prices per zone, with each policy's bid.

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ZoneLine {
    pub zone: String,
    pub stats: Option<ZoneStats>,
    /// Each price from the time it took effect (the first from the range's start).
    pub prices: Vec<(Timestamp, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BidLine {
    /// Policies whose bids were the same all along share a line.
    pub policies: Vec<Policy>,
    pub bids: Vec<(Timestamp, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct PriceChart {
    pub instance_type: InstanceType,
    pub start: Timestamp,
    pub end: Timestamp,
    pub on_demand: f64,
    pub zones: Vec<ZoneLine>,
    pub bids: Vec<BidLine>,
}

impl PriceChart {
    /// Prices of every zone over `[start, end]`, and `bid(policy, t)` at about 200 moments.
    pub(crate) fn build(
        history: &History,
        start: Timestamp,
        end: Timestamp,
        bid: impl Fn(Policy, Timestamp) -> Option<f64>,
        instance_type: &InstanceType,
        on_demand: f64,
    ) -> PriceChart {
        let (s, e) = (start.as_millisecond(), end.as_millisecond());
        let zones = history
            .zones
            .iter()
            .map(|z| ZoneLine {
                zone: z.zone.clone(),
                stats: zone_stats(z, start, end),
                prices: z
                    .pieces(s, e)
                    .filter_map(|p| {
                        Some((
                            Timestamp::from_millisecond(p.from).ok()?,
                            micros_to_dollars(p.price),
                        ))
                    })
                    .collect(),
            })
            .collect();
        let step = ((e - s) / 200).max(5 * 60_000);
        let moments: Vec<Timestamp> = (0..=(e - s) / step)
            .map(|i| s + i * step)
            .filter_map(|t| Timestamp::from_millisecond(t).ok())
            .collect();
        let mut bids: Vec<BidLine> = Vec::new();
        for policy in Policy::ALL {
            let line: Vec<(Timestamp, f64)> = moments
                .iter()
                .filter_map(|t| Some((*t, bid(policy, *t)?)))
                .collect();
            match bids.iter_mut().find(|b| b.bids == line) {
                Some(same) => same.policies.push(policy),
                None => bids.push(BidLine {
                    policies: vec![policy],
                    bids: line,
                }),
            }
        }
        PriceChart {
            instance_type: instance_type.clone(),
            start,
            end,
            on_demand,
            zones,
            bids,
        }
    }

    pub(crate) fn to_text(&self) -> String {
        let mut out = format!(
            "{} spot prices, {} to {} UTC ({}), $ per instance-hour; on demand ${:.4}\n\n",
            self.instance_type,
            self.start.strftime("%Y-%m-%d %H:%M"),
            self.end.strftime("%Y-%m-%d %H:%M"),
            Duration::from_secs((self.end.as_second() - self.start.as_second()).max(1)),
            self.on_demand,
        );
        out.push_str(&format!(
            "  {:<12} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
            "zone", "mean", "min", "max", "latest", "changes"
        ));
        for z in &self.zones {
            match &z.stats {
                Some(s) => out.push_str(&format!(
                    "  {:<12} {:>9.6} {:>9.6} {:>9.6} {:>9.6} {:>8}\n",
                    s.zone, s.mean, s.min, s.max, s.latest, s.changes
                )),
                None => out.push_str(&format!("  {:<12} {:>9}\n", z.zone, "no prices")),
            }
        }
        out.push_str(&format!(
            "\n  {:<20} {:>9} {:>9} {:>9}\n",
            "bid of", "lowest", "mean", "highest"
        ));
        for b in &self.bids {
            let values: Vec<f64> = b.bids.iter().map(|(_, v)| *v).collect();
            if values.is_empty() {
                continue;
            }
            let names: Vec<&str> = b.policies.iter().map(|p| p.name()).collect();
            out.push_str(&format!(
                "  {:<20} {:>9.4} {:>9.4} {:>9.4}\n",
                names.join(", "),
                values.iter().copied().fold(f64::MAX, f64::min),
                values.iter().sum::<f64>() / values.len() as f64,
                values.iter().copied().fold(f64::MIN, f64::max),
            ));
        }
        out
    }
}

pub(crate) fn prices(chart: &PriceChart, path: &Path) -> Result<()> {
    draw_to!(path, (1200, 640), draw_prices, chart)
}

fn draw_prices<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, c: &PriceChart) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let span = hours_between(c.start, c.end).max(1.0 / 60.0);
    let all = c
        .zones
        .iter()
        .flat_map(|z| z.prices.iter().map(|p| p.1))
        .chain(c.bids.iter().flat_map(|b| b.bids.iter().map(|p| p.1)))
        .chain([c.on_demand]);
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = ((lo * 0.8).max(1e-4), hi * 1.6);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "{} spot price per zone and each policy's bid, {} to {} UTC",
                c.instance_type,
                c.start.strftime("%Y-%m-%d %H:%M"),
                c.end.strftime("%Y-%m-%d %H:%M")
            ),
            (FAMILY, 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..span, (lo..hi).log_scale())
        .map_err(|e| e.to_string())?;
    let x_label = time_label(c.start, span);
    mesh(
        &mut chart,
        "time (UTC)",
        "$ per instance-hour (log scale)",
        &x_label,
    )
    .y_labels(10)
    .y_label_formatter(&|y| format!("{y:.3}"))
    .draw()
    .map_err(|e| e.to_string())?;
    for (i, z) in c.zones.iter().enumerate() {
        let col = colour(i + 2);
        // A price holds until the next: draw steps.
        let mut points = Vec::with_capacity(z.prices.len() * 2 + 1);
        for (k, (t, p)) in z.prices.iter().enumerate() {
            let x = hours_between(c.start, *t).max(0.0);
            if k > 0 {
                points.push((x, z.prices[k - 1].1));
            }
            points.push((x, *p));
        }
        if let Some((_, p)) = z.prices.last() {
            points.push((span, *p));
        }
        chart
            .draw_series(LineSeries::new(points, col.stroke_width(1)))
            .map_err(|e| e.to_string())?
            .label(format!("{} price", z.zone))
            .legend(legend_line(col, 2));
    }
    for b in &c.bids {
        let Some(first) = b.policies.first() else {
            continue;
        };
        let col = policy_colour(*first);
        let names: Vec<&str> = b.policies.iter().map(|p| p.name()).collect();
        let points: Vec<(f64, f64)> = b
            .bids
            .iter()
            .map(|(t, v)| (hours_between(c.start, *t), *v))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(points, 8, 5, col.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(format!("bid: {}", names.join(" = ")))
            .legend(legend_line(col, 3));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

// ---------------------------------------------------------------------------------------------
// A backtest: each launch's cost per policy, and interruptions as they add up.

pub(crate) fn backtest(report: &backtest::Report, path: &Path) -> Result<()> {
    draw_to!(path, (1200, 760), draw_backtest, report)
}

fn draw_backtest<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &backtest::Report) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let start = r.launches_from;
    let span = (hours_between(start, r.launches_to) + r.window_secs as f64 / 3600.0).max(1.0);
    let (top, bottom) = root.split_vertically(470);
    let max_cost = r
        .policies
        .iter()
        .flat_map(|p| p.outcomes.iter().map(|o| o.cost))
        .fold(r.on_demand * r.window_secs as f64 / 3600.0, f64::max)
        * 1.15;
    let mut costs = ChartBuilder::on(&top)
        .caption(
            format!(
                "{} backtest: cost of each {} launch per policy ({} in {})",
                r.instance_type,
                Duration::from_secs(r.window_secs),
                r.policies.first().map_or(0, |p| p.launches),
                r.zones.join(", ")
            ),
            (FAMILY, 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..span, 0f64..max_cost)
        .map_err(|e| e.to_string())?;
    let x_label = time_label(start, span);
    mesh(
        &mut costs,
        "launch time (UTC)",
        "$ per instance and window",
        &x_label,
    )
    .y_label_formatter(&|y| format!("{y:.3}"))
    .draw()
    .map_err(|e| e.to_string())?;
    let on_demand_window = r.on_demand * r.window_secs as f64 / 3600.0;
    costs
        .draw_series(DashedLineSeries::new(
            [(0.0, on_demand_window), (span, on_demand_window)],
            8,
            5,
            BLACK.stroke_width(1),
        ))
        .map_err(|e| e.to_string())?
        .label(format!("all on demand ${on_demand_window:.3}"))
        .legend(legend_line(BLACK, 1));
    for p in &r.policies {
        let col = policy_colour(p.name);
        let points: Vec<(f64, f64)> = p
            .outcomes
            .iter()
            .map(|o| (hours_between(start, o.at), o.cost))
            .collect();
        costs
            .draw_series(LineSeries::new(points, col.mix(0.8).stroke_width(1)))
            .map_err(|e| e.to_string())?
            .label(format!(
                "{}: mean ${:.4}, {} interrupted",
                p.name, p.mean_cost, p.interrupted
            ))
            .legend(legend_line(col, 3));
        costs
            .draw_series(
                p.outcomes
                    .iter()
                    .filter(|o| o.interrupted_at.is_some())
                    .map(|o| {
                        Cross::new((hours_between(start, o.at), o.cost), 5, col.stroke_width(2))
                    }),
            )
            .map_err(|e| e.to_string())?;
    }
    legend(&mut costs, SeriesLabelPosition::UpperRight)?;

    draw_lost(&bottom, r, start, span)
}

/// The backtest's lower panel: each policy's interrupted launches so far.
fn draw_lost<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &backtest::Report,
    start: Timestamp,
    span: f64,
) -> Drawn {
    let x_label = time_label(start, span);
    let max_lost = r
        .policies
        .iter()
        .map(|p| p.interrupted)
        .max()
        .unwrap_or(0)
        .max(1) as f64
        * 1.1;
    let mut lost = ChartBuilder::on(area)
        .caption("interrupted launches so far (x above)", (FAMILY, 18))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0f64..span, 0f64..max_lost)
        .map_err(|e| e.to_string())?;
    mesh(&mut lost, "launch time (UTC)", "launches", &x_label)
        .y_labels(6)
        // Whole launches only: no "1, 1, 1" where the scale falls between them.
        .y_label_formatter(&|y| {
            if (y - y.round()).abs() < 1e-6 {
                format!("{y:.0}")
            } else {
                String::new()
            }
        })
        .draw()
        .map_err(|e| e.to_string())?;
    for p in &r.policies {
        let col = policy_colour(p.name);
        let mut n = 0.0;
        let mut points = vec![(0.0, 0.0)];
        for o in &p.outcomes {
            let x = hours_between(start, o.at);
            if o.interrupted_at.is_some() {
                points.push((x, n));
                n += 1.0;
                points.push((x, n));
            }
        }
        points.push((span, n));
        lost.draw_series(LineSeries::new(points, col.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(p.name.name())
            .legend(legend_line(col, 3));
    }
    legend(&mut lost, SeriesLabelPosition::UpperLeft)
}

// ---------------------------------------------------------------------------------------------
// A debate: mean happiness per candidate over time.

pub(crate) fn happiness(report: &crate::report::DebateReport, path: &Path) -> Result<()> {
    draw_to!(path, (1200, 680), draw_happiness, report)
}

fn draw_happiness<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &crate::report::DebateReport,
) -> Drawn {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    // The legend gets its own strip below the chart: a debate fills the whole time axis, so
    // there is no corner a legend could take without hiding lines.
    let rows = r.lines.len().div_ceil(4).max(1) as u32;
    let (root, strip) = root.split_vertically(root.dim_in_pixel().1 - 12 - 22 * rows);
    let root = &root;
    let (start, end) = (r.plot_from, r.plot_to);
    let span = hours_between(start, end).max(1.0 / 60.0);
    let values = r.lines.iter().flat_map(|l| l.points.iter().map(|p| p.mean));
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if lo > hi {
        (4.0, 7.0)
    } else {
        (lo - 0.15, hi + 0.15)
    };
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "Debate {}: mean happiness (LabMT) per candidate per {}",
                r.debate,
                Duration::from_secs(i64::from(r.bin_secs))
            ),
            (FAMILY, 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..span, lo..hi)
        .map_err(|e| e.to_string())?;
    let x_label = time_label(start, span);
    mesh(
        &mut chart,
        "time (UTC)",
        "mean happiness (1 sad .. 9 happy)",
        &x_label,
    )
    .x_labels(12)
    .y_label_formatter(&|y| format!("{y:.1}"))
    .draw()
    .map_err(|e| e.to_string())?;
    // Each debate as a shaded band, named at its top left.
    for (label, from, to) in &r.debates {
        let (x0, x1) = (
            hours_between(start, *from).clamp(0.0, span),
            hours_between(start, *to).clamp(0.0, span),
        );
        if x1 <= x0 {
            continue;
        }
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, lo), (x1, hi)],
                RGBColor(225, 225, 225).mix(0.6).filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.clone(),
                (x0, hi),
                (FAMILY, 13).into_font().color(&RGBColor(70, 70, 70)),
            )))
            .map_err(|e| e.to_string())?;
    }
    for (i, line) in r.lines.iter().enumerate() {
        let col = colour(i);
        let points: Vec<(f64, f64)> = line
            .points
            .iter()
            .map(|p| (hours_between(start, p.start), p.mean))
            .collect();
        // No line across a gap of more than two bins: nothing was measured there.
        let gap = 2.0 * f64::from(r.bin_secs) / 3600.0 + 1e-9;
        let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
        for p in &points {
            match runs.last_mut() {
                Some(run) if run.last().is_some_and(|q| p.0 - q.0 <= gap) => run.push(*p),
                _ => runs.push(vec![*p]),
            }
        }
        for run in runs {
            chart
                .draw_series(LineSeries::new(run, col.stroke_width(2)))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(points.into_iter().map(|p| Circle::new(p, 2, col.filled())))
            .map_err(|e| e.to_string())?;
    }
    draw_names(&strip, r)
}

/// The happiness picture's legend strip: each candidate's colour, name and tweets.
fn draw_names<DB: DrawingBackend>(
    strip: &DrawingArea<DB, Shift>,
    r: &crate::report::DebateReport,
) -> Drawn {
    for (i, line) in r.lines.iter().enumerate() {
        let (x, y) = (90 + 270 * (i as i32 % 4), 4 + 22 * (i as i32 / 4));
        let col = colour(i);
        strip
            .draw(&PathElement::new(
                vec![(x, y + 8), (x + 24, y + 8)],
                col.stroke_width(3),
            ))
            .map_err(|e| e.to_string())?;
        strip
            .draw(&Text::new(
                format!("{} ({} {})", line.name, line.tweets, r.posts),
                (x + 30, y),
                (FAMILY, 14).into_font(),
            ))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plot_file_must_be_svg_or_png() {
        let err = render(Path::new("/tmp/x.pdf"), (10, 10), |_| Ok(()), |_| Ok(())).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains(".svg or .png"), "{err}");
    }

    #[test]
    fn the_embedded_font_registers() {
        assert!(plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    }
}
