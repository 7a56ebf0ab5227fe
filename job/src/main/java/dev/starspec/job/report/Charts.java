package dev.starspec.job.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.CategoryItemRendererState;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.ClusteredXYBarRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.statistics.HistogramDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.SVGUtils;

/**
 * The sweep report's charts, drawn by JFreeChart (headless): bars with whiskers, histograms, scatter plots. Each is
 * written twice, {@code name.png} for the Markdown report and {@code name.svg} beside it for the HTML one.
 */
public final class Charts {

    /** One series of a chart: a name and its values (histogram: x only; scatter: x and y). */
    public record Series(String name, double[] x, double[] y) {}

    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2)};
    private static final int W = 900;
    private static final int H = 420;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {}

    /**
     * Bars of {@code mean} per label, with whiskers from {@code low} to {@code high}, one colour per bar.
     *
     * @param png where the PNG goes; the SVG goes beside it
     */
    public static void bars(Path png, String title, String yLabel, List<String> labels, double[] mean, double[] low,
                            double[] high) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        for (int i = 0; i < labels.size(); i++) {
            data.addValue(Double.isNaN(mean[i]) ? null : mean[i], "mean", labels.get(i));
        }
        CategoryAxis x = new CategoryAxis();
        if (labels.stream().mapToInt(String::length).sum() > 90) {
            x.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        }
        NumberAxis y = new NumberAxis(yLabel);
        double top = 0;
        for (int i = 0; i < mean.length; i++) {
            top = Math.max(top, Double.isFinite(high[i]) ? high[i] : Double.isFinite(mean[i]) ? mean[i] : 0);
        }
        y.setRange(0, top > 0 ? top * 1.12 : 1);
        WhiskerBars renderer = new WhiskerBars(low, high);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}",
                new java.text.DecimalFormat("0.00")));
        renderer.setDefaultItemLabelsVisible(true);
        CategoryPlot plot = new CategoryPlot(data, x, y, renderer);
        write(png, chart(title, plot, false));
    }

    /** Histograms of values in [0, 1] (acceptance rates, say), one colour per series, side by side. */
    public static void histogram(Path png, String title, String xLabel, List<Series> series, int bins) {
        HistogramDataset data = new HistogramDataset();
        for (Series s : series) {
            double[] finite = java.util.Arrays.stream(s.x()).filter(Double::isFinite).toArray();
            if (finite.length > 0) {
                data.addSeries(s.name(), finite, bins, 0, 1);
            }
        }
        ClusteredXYBarRenderer renderer = new ClusteredXYBarRenderer(0.1, false);
        renderer.setBarPainter(new StandardXYBarPainter());
        renderer.setShadowVisible(false);
        NumberAxis x = new NumberAxis(xLabel);
        x.setRange(0, 1);
        XYPlot plot = new XYPlot(data, x, new NumberAxis("count"), renderer);
        plot.setOrientation(PlotOrientation.VERTICAL);
        write(png, chart(title, plot, true));
    }

    /** Points (x, y) per series over x in [0, xMax], with a line at y = 1 (no speedup). */
    public static void scatter(Path png, String title, String xLabel, String yLabel, List<Series> series, double xMax) {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Series s : series) {
            XYSeries points = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
                    points.add(s.x()[i], s.y()[i]);
                }
            }
            data.addSeries(points);
        }
        NumberAxis x = new NumberAxis(xLabel);
        x.setRange(0, xMax);
        NumberAxis y = new NumberAxis(yLabel);
        y.setAutoRangeIncludesZero(true);
        XYPlot plot = new XYPlot(data, x, y, new XYLineAndShapeRenderer(false, true));
        plot.addRangeMarker(new ValueMarker(1, Color.GRAY, new BasicStroke(1f)));
        write(png, chart(title, plot, true));
    }

    private static JFreeChart chart(String title, org.jfree.chart.plot.Plot plot, boolean legend) {
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 16), plot, legend);
        StandardChartTheme theme = (StandardChartTheme) StandardChartTheme.createJFreeTheme();
        theme.setBarPainter(new StandardBarPainter());
        theme.setShadowVisible(false);
        theme.apply(chart);
        chart.setBackgroundPaint(Color.WHITE);
        plot.setBackgroundPaint(Color.WHITE);
        if (plot instanceof XYPlot xy) {
            xy.setDomainGridlinePaint(new Color(0xdddddd));
            xy.setRangeGridlinePaint(new Color(0xdddddd));
            for (int s = 0; s < PALETTE.length; s++) {
                xy.getRenderer().setSeriesPaint(s, PALETTE[s]);
            }
        } else if (plot instanceof CategoryPlot cat) {
            cat.setRangeGridlinePaint(new Color(0xdddddd));
        }
        return chart;
    }

    /** The PNG, and the SVG beside it. */
    private static void write(Path png, JFreeChart chart) {
        String name = png.getFileName().toString();
        Path svg = png.resolveSibling(name.substring(0, name.lastIndexOf('.')) + ".svg");
        try {
            ChartUtils.saveChartAsPNG(png.toFile(), chart, W, H);
            SVGGraphics2D g = new SVGGraphics2D(W, H);
            chart.draw(g, new Rectangle(W, H));
            SVGUtils.writeToSVG(svg.toFile(), g.getSVGElement());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + png + " and " + svg, e);
        }
    }

    /** Bars in the palette's colours, each with a whisker from its low to its high value. */
    private static final class WhiskerBars extends BarRenderer {
        private static final long serialVersionUID = 1L;
        private final double[] low;
        private final double[] high;

        WhiskerBars(double[] low, double[] high) {
            this.low = low;
            this.high = high;
            setBarPainter(new StandardBarPainter());
            setShadowVisible(false);
            setDrawBarOutline(false);
            setItemMargin(0);
        }

        @Override
        public java.awt.Paint getItemPaint(int row, int column) {
            return PALETTE[column % PALETTE.length];
        }

        @Override
        public void drawItem(Graphics2D g, CategoryItemRendererState state, Rectangle2D area, CategoryPlot plot,
                             CategoryAxis domain, ValueAxis range, CategoryDataset data, int row, int column, int pass) {
            super.drawItem(g, state, area, plot, domain, range, data, row, column, pass);
            if (pass != 0 || data.getValue(row, column) == null || !Double.isFinite(low[column])
                    || !Double.isFinite(high[column])) {
                return;
            }
            double x = domain.getCategoryMiddle(column, data.getColumnCount(), area, plot.getDomainAxisEdge());
            double y0 = range.valueToJava2D(low[column], area, plot.getRangeAxisEdge());
            double y1 = range.valueToJava2D(high[column], area, plot.getRangeAxisEdge());
            g.setPaint(Color.BLACK);
            g.setStroke(new BasicStroke(1.2f));
            g.draw(new Line2D.Double(x, y0, x, y1));
            g.draw(new Line2D.Double(x - 8, y0, x + 8, y0));
            g.draw(new Line2D.Double(x - 8, y1, x + 8, y1));
        }
    }
}
