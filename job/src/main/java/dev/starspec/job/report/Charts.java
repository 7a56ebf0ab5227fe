package dev.starspec.job.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;

/** Small PNG charts drawn with Java2D (headless): bars with whiskers, histograms, scatter plots. */
public final class Charts {

    /** One series of a chart: a name and its values (bars: one per label; scatter: x and y). */
    public record Series(String name, double[] x, double[] y) {}

    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2)};
    private static final int W = 900;
    private static final int H = 420;
    private static final int LEFT = 80;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    private static final int BOTTOM = 90;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {}

    /** Bars of {@code mean} per label, with whiskers from {@code low} to {@code high}. */
    public static void bars(Path file, String title, String yLabel, List<String> labels, double[] mean, double[] low,
                            double[] high) {
        double max = 0;
        for (int i = 0; i < mean.length; i++) {
            max = Math.max(max, finite(high[i], mean[i]));
        }
        Canvas c = new Canvas(title, yLabel, 0, labels.size(), 0, niceMax(max));
        double slot = 1.0;
        for (int i = 0; i < labels.size(); i++) {
            if (Double.isNaN(mean[i])) {
                continue;
            }
            c.g.setColor(PALETTE[i % PALETTE.length]);
            int x0 = c.x(i + 0.15 * slot);
            int x1 = c.x(i + 0.85 * slot);
            c.g.fillRect(x0, c.y(mean[i]), x1 - x0, c.y(0) - c.y(mean[i]));
            c.g.setColor(Color.BLACK);
            int xm = (x0 + x1) / 2;
            if (!Double.isNaN(low[i]) && !Double.isNaN(high[i])) {
                c.g.drawLine(xm, c.y(low[i]), xm, c.y(high[i]));
                c.g.drawLine(xm - 8, c.y(low[i]), xm + 8, c.y(low[i]));
                c.g.drawLine(xm - 8, c.y(high[i]), xm + 8, c.y(high[i]));
            }
            c.g.drawString(String.format("%.2f", mean[i]), x0, c.y(mean[i]) - 4);
            c.labelBelow(labels.get(i), xm);
        }
        c.save(file);
    }

    /** Histograms of values in [0, 1] (for example acceptance rates), one colour per series, side by side. */
    public static void histogram(Path file, String title, String xLabel, List<Series> series, int bins) {
        int[][] counts = new int[series.size()][bins];
        int max = 1;
        for (int s = 0; s < series.size(); s++) {
            for (double v : series.get(s).x()) {
                if (!Double.isNaN(v)) {
                    int b = Math.min(bins - 1, Math.max(0, (int) (v * bins)));
                    max = Math.max(max, ++counts[s][b]);
                }
            }
        }
        Canvas c = new Canvas(title, "count", 0, 1, 0, niceMax(max));
        double width = 1.0 / bins / Math.max(1, series.size());
        for (int s = 0; s < series.size(); s++) {
            c.g.setColor(PALETTE[s % PALETTE.length]);
            for (int b = 0; b < bins; b++) {
                double x0 = (double) b / bins + s * width;
                c.g.fillRect(c.x(x0), c.y(counts[s][b]), Math.max(1, c.x(x0 + width) - c.x(x0) - 1), c.y(0) - c.y(counts[s][b]));
            }
        }
        for (int t = 0; t <= 10; t += 2) {
            c.labelBelow(String.format("%.1f", t / 10.0), c.x(t / 10.0));
        }
        c.xAxisTitle(xLabel);
        c.legend(series);
        c.save(file);
    }

    /** Points (x, y) per series. */
    public static void scatter(Path file, String title, String xLabel, String yLabel, List<Series> series, double xMax) {
        double yMax = 0;
        for (Series s : series) {
            for (double y : s.y()) {
                if (Double.isFinite(y)) {
                    yMax = Math.max(yMax, y);
                }
            }
        }
        Canvas c = new Canvas(title, yLabel, 0, xMax, 0, niceMax(yMax));
        for (int s = 0; s < series.size(); s++) {
            c.g.setColor(PALETTE[s % PALETTE.length]);
            Series sr = series.get(s);
            for (int i = 0; i < sr.x().length; i++) {
                if (Double.isFinite(sr.x()[i]) && Double.isFinite(sr.y()[i])) {
                    c.g.fillOval(c.x(sr.x()[i]) - 3, c.y(sr.y()[i]) - 3, 7, 7);
                }
            }
        }
        c.g.setColor(Color.GRAY);
        c.g.drawLine(c.x(0), c.y(1), c.x(xMax), c.y(1));
        for (int t = 0; t <= 10; t += 2) {
            c.labelBelow(String.format("%.1f", xMax * t / 10.0), c.x(xMax * t / 10.0));
        }
        c.xAxisTitle(xLabel);
        c.legend(series);
        c.save(file);
    }

    private static double finite(double v, double fallback) {
        return Double.isFinite(v) ? v : fallback;
    }

    static double niceMax(double v) {
        if (!(v > 0)) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v * 1.05) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static final class Canvas {
        final BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        final Graphics2D g = image.createGraphics();
        final double x0;
        final double x1;
        final double y0;
        final double y1;

        Canvas(String title, String yLabel, double x0, double x1, double y0, double y1) {
            this.x0 = x0;
            this.x1 = x1;
            this.y0 = y0;
            this.y1 = y1;
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
            g.setColor(Color.BLACK);
            g.drawString(title, LEFT, 28);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            g.setStroke(new BasicStroke(1f));
            for (int t = 0; t <= 5; t++) {
                double v = y0 + (y1 - y0) * t / 5;
                g.setColor(new Color(0xdddddd));
                g.drawLine(LEFT, y(v), W - RIGHT, y(v));
                g.setColor(Color.BLACK);
                String s = Math.abs(v) >= 100 ? String.format("%.0f", v) : String.format("%.2f", v);
                g.drawString(s, LEFT - 8 - g.getFontMetrics().stringWidth(s), y(v) + 4);
            }
            g.drawLine(LEFT, y(y0), W - RIGHT, y(y0));
            g.drawLine(LEFT, TOP, LEFT, y(y0));
            Graphics2D r = (Graphics2D) g.create();
            r.rotate(-Math.PI / 2);
            r.drawString(yLabel, -(TOP + (H - TOP - BOTTOM) / 2) - r.getFontMetrics().stringWidth(yLabel) / 2, 18);
            r.dispose();
        }

        int x(double v) {
            return LEFT + (int) Math.round((v - x0) / (x1 - x0) * (W - LEFT - RIGHT));
        }

        int y(double v) {
            return H - BOTTOM - (int) Math.round((v - y0) / (y1 - y0) * (H - TOP - BOTTOM));
        }

        void labelBelow(String text, int xCenter) {
            g.setColor(Color.BLACK);
            g.drawString(text, xCenter - g.getFontMetrics().stringWidth(text) / 2, H - BOTTOM + 18);
        }

        void xAxisTitle(String text) {
            g.drawString(text, LEFT + (W - LEFT - RIGHT) / 2 - g.getFontMetrics().stringWidth(text) / 2, H - BOTTOM + 40);
        }

        void legend(List<Series> series) {
            int y = H - 30;
            int x = LEFT;
            for (int s = 0; s < series.size(); s++) {
                g.setColor(PALETTE[s % PALETTE.length]);
                g.fillRect(x, y - 10, 12, 12);
                g.setColor(Color.BLACK);
                g.drawString(series.get(s).name(), x + 16, y);
                x += 30 + g.getFontMetrics().stringWidth(series.get(s).name());
            }
        }

        void save(Path file) {
            g.dispose();
            try {
                ImageIO.write(image, "png", file.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file, e);
            }
        }
    }
}
