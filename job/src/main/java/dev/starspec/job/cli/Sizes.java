package dev.starspec.job.cli;

import java.util.Locale;

/** Byte sizes as users write them: 4096, 512k, 64m, 8g. */
final class Sizes {

    private Sizes() {}

    static long parseBytes(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace("ib", "").replace("b", "");
        long unit = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        switch (last) {
            case 'k' -> unit = 1L << 10;
            case 'm' -> unit = 1L << 20;
            case 'g' -> unit = 1L << 30;
            case 't' -> unit = 1L << 40;
            default -> { }
        }
        String number = unit == 1 ? t : t.substring(0, t.length() - 1);
        try {
            double v = Double.parseDouble(number);
            if (v <= 0) {
                throw new NumberFormatException();
            }
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 512m, 8g)");
        }
    }
}
