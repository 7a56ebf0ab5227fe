package dev.starspec.job.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/** Each chart is a PNG that decodes to an image and an SVG that parses as one, with its title and labels. */
class ChartsTest {

    /** The PNG decoded (900 x 420, not blank) and the SVG parsed; the SVG's text, for its labels. */
    static String decodeBoth(Path png) throws Exception {
        BufferedImage image = ImageIO.read(png.toFile());
        assertNotNull(image, png + " is not an image");
        assertEquals(900, image.getWidth());
        assertEquals(420, image.getHeight());
        int first = image.getRGB(0, 0);
        boolean drawn = false;
        for (int x = 0; x < image.getWidth() && !drawn; x += 7) {
            for (int y = 0; y < image.getHeight() && !drawn; y += 7) {
                drawn = image.getRGB(x, y) != first;
            }
        }
        assertTrue(drawn, png + " is blank");
        Path svg = png.resolveSibling(png.getFileName().toString().replace(".png", ".svg"));
        DocumentBuilderFactory xml = DocumentBuilderFactory.newInstance();
        xml.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false); // offline
        Document doc = xml.newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getTagName());
        assertEquals(900.0, Double.parseDouble(doc.getDocumentElement().getAttribute("width")));
        return doc.getDocumentElement().getTextContent();
    }

    @Test
    void barsHistogramAndScatter(@TempDir Path tmp) throws Exception {
        Charts.bars(tmp.resolve("tpot.png"), "Time per output token (mean, p10-p90)", "ms",
                List.of("fp32", "int8", "int8+draft"), new double[] {4.2, 2.1, Double.NaN},
                new double[] {3.9, 1.8, Double.NaN}, new double[] {4.9, 2.6, Double.NaN});
        String bars = decodeBoth(tmp.resolve("tpot.png"));
        // (the rotated y-axis title is drawn as an outline, not as SVG text)
        for (String label : List.of("Time per output token (mean, p10-p90)", "fp32", "int8+draft", "4.20")) {
            assertTrue(bars.contains(label), "bars lack " + label);
        }

        Charts.histogram(tmp.resolve("acceptance.png"), "Draft acceptance rate per generation", "acceptance rate",
                List.of(new Charts.Series("int8+draft", new double[] {0.1, 0.5, 0.55, 0.9, Double.NaN}, null),
                        new Charts.Series("fp32+draft", new double[] {0.7, 0.8}, null)), 10);
        String histogram = decodeBoth(tmp.resolve("acceptance.png"));
        assertTrue(histogram.contains("acceptance rate") && histogram.contains("int8+draft")
                && histogram.contains("fp32+draft"), "histogram labels and legend");

        Charts.scatter(tmp.resolve("speedup.png"), "TPOT speedup against acceptance, per problem", "acceptance rate",
                "TPOT speedup", List.of(new Charts.Series("int8+draft vs int8", new double[] {0.2, 0.8},
                        new double[] {0.9, 1.7})), 1.0);
        String scatter = decodeBoth(tmp.resolve("speedup.png"));
        assertTrue(scatter.contains("TPOT speedup against acceptance") && scatter.contains("acceptance rate")
                && scatter.contains("int8+draft vs int8"), "scatter labels and legend");
        assertTrue(Files.size(tmp.resolve("speedup.svg")) > 1000);
    }
}
