package dev.starspec.job.repo;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.eclipse.jgit.ignore.IgnoreNode;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.treewalk.TreeWalk;

/**
 * The files of a source tree, as git would list them: a folder on disk, or one revision of a git repository read
 * through JGit without a checkout. Both apply the same ignore rules (JGit's own matcher): every folder's
 * {@code .gitignore}, the nearest deciding, then the repository's {@code .git/info/exclude}; an ignored folder is
 * not entered. {@code .git} itself is never part of the tree.
 */
public abstract class SourceTree {

    /** A file not ignored: its path from the tree's root ({@code /}-separated) and its bytes. */
    public record SourceFile(String path, byte[] content) {}

    /** The wanted files in path order, and how many files and folders the rules left out. */
    public record Listing(List<SourceFile> files, int ignored) {}

    /** Reads the files whose path {@code wanted} accepts (the others are not read at all). */
    public abstract Listing list(Predicate<String> wanted);

    /** A folder on disk (a checkout, or any tree of sources). */
    public static SourceTree folder(Path root) {
        return new Folder(root);
    }

    /**
     * A revision ({@code HEAD}, a branch, a tag, a commit id) of the repository at {@code repository}: a bare
     * repository ({@code repo.git}) or a working copy, whose {@code .git} is then read.
     */
    public static SourceTree revision(Path repository, String revision) {
        return new Revision(repository, revision);
    }

    /** Whether {@code dir} is a git repository's folder itself (bare, or a {@code .git}). */
    public static boolean isGitDirectory(Path dir) {
        return Files.isRegularFile(dir.resolve("HEAD")) && Files.isDirectory(dir.resolve("objects"))
                && Files.isDirectory(dir.resolve("refs"));
    }

    /** The ignore rules in force in one folder: its own {@code .gitignore} over its parent's rules. */
    private record Rules(String base, IgnoreNode node, Rules parent, IgnoreNode exclude) {

        static Rules root(byte[] excludeFile) {
            return new Rules("", null, null, parse(excludeFile));
        }

        /** The rules of a subfolder: unchanged without a .gitignore of its own. */
        Rules enter(String folder, byte[] gitignore) {
            return gitignore == null ? this : new Rules(folder, parse(gitignore), this, exclude);
        }

        /** Git's decision for a path from the root: the nearest .gitignore with an opinion, then info/exclude. */
        boolean ignored(String path, boolean folder) {
            for (Rules r = this; r != null; r = r.parent) {
                if (r.node != null) {
                    String relative = r.base.isEmpty() ? path : path.substring(r.base.length() + 1);
                    Boolean decision = r.node.checkIgnored(relative, folder);
                    if (decision != null) {
                        return decision;
                    }
                }
            }
            if (exclude != null) {
                Boolean decision = exclude.checkIgnored(path, folder);
                return decision != null && decision;
            }
            return false;
        }

        private static IgnoreNode parse(byte[] rules) {
            if (rules == null) {
                return null;
            }
            IgnoreNode n = new IgnoreNode();
            try {
                n.parse(new ByteArrayInputStream(rules));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return n;
        }
    }

    private static final class Folder extends SourceTree {
        private final Path root;

        Folder(Path root) {
            this.root = root;
        }

        @Override
        public Listing list(Predicate<String> wanted) {
            List<SourceFile> files = new ArrayList<>();
            int[] ignored = {0};
            Path exclude = root.resolve(".git").resolve("info").resolve("exclude");
            walk(root, "", Rules.root(Files.isRegularFile(exclude) ? read(exclude) : null), wanted, files, ignored);
            return new Listing(files, ignored[0]);
        }

        /** Links are not followed: a revision does not follow them either, and a link may loop. */
        private void walk(Path dir, String path, Rules parent, Predicate<String> wanted, List<SourceFile> files,
                          int[] ignored) {
            Path gitignore = dir.resolve(".gitignore");
            Rules rules = parent.enter(path, Files.isRegularFile(gitignore) ? read(gitignore) : null);
            List<Path> children;
            try (Stream<Path> s = Files.list(dir)) {
                children = s.sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir, e);
            }
            for (Path p : children) {
                String name = p.getFileName().toString();
                String child = path.isEmpty() ? name : path + "/" + name;
                boolean folder = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
                if (name.equals(".git") || Files.isSymbolicLink(p)) {
                    continue;
                }
                if (rules.ignored(child, folder)) {
                    ignored[0]++;
                } else if (folder) {
                    walk(p, child, rules, wanted, files, ignored);
                } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && wanted.test(child)) {
                    files.add(new SourceFile(child, read(p)));
                }
            }
        }

        private static byte[] read(Path p) {
            try {
                return Files.readAllBytes(p);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + p, e);
            }
        }
    }

    private static final class Revision extends SourceTree {
        private final Path repository;
        private final String revision;

        Revision(Path repository, String revision) {
            this.repository = repository;
            this.revision = revision;
        }

        @Override
        public Listing list(Predicate<String> wanted) {
            Path gitDir = isGitDirectory(repository) ? repository : repository.resolve(".git");
            try (Repository repo = new FileRepositoryBuilder().setGitDir(gitDir.toFile()).setMustExist(true).build();
                 RevWalk commits = new RevWalk(repo)) {
                ObjectId id = repo.resolve(revision);
                if (id == null) {
                    throw new IllegalArgumentException("no revision " + revision + " in " + repository);
                }
                RevCommit commit = commits.parseCommit(id);
                Path exclude = gitDir.resolve("info").resolve("exclude");
                List<SourceFile> files = new ArrayList<>();
                int[] ignored = {0};
                walk(repo, commit.getTree(), "", Rules.root(Files.isRegularFile(exclude) ? Files.readAllBytes(exclude)
                        : null), wanted, files, ignored);
                return new Listing(files, ignored[0]);
            } catch (org.eclipse.jgit.errors.RepositoryNotFoundException e) {
                throw new IllegalArgumentException(repository + " is not a git repository", e);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + revision + " of " + repository + ": " + e.getMessage(), e);
            }
        }

        /** One tree object: its .gitignore first (entries come in name order, the rules must come first). */
        private void walk(Repository repo, ObjectId tree, String path, Rules parent, Predicate<String> wanted,
                          List<SourceFile> files, int[] ignored) throws IOException {
            record Entry(String name, ObjectId id, boolean folder) {}
            List<Entry> entries = new ArrayList<>();
            byte[] gitignore = null;
            try (TreeWalk walk = new TreeWalk(repo)) {
                walk.addTree(tree);
                walk.setRecursive(false);
                while (walk.next()) {
                    FileMode mode = walk.getFileMode(0);
                    boolean folder = mode == FileMode.TREE;
                    if (mode == FileMode.GITLINK || mode == FileMode.SYMLINK) {
                        continue; // a submodule or a link: no content of this tree
                    }
                    Entry e = new Entry(walk.getNameString(), walk.getObjectId(0), folder);
                    if (!folder && e.name().equals(".gitignore")) {
                        gitignore = repo.open(e.id()).getBytes();
                    }
                    entries.add(e);
                }
            }
            Rules rules = parent.enter(path, gitignore);
            for (Entry e : entries) {
                String child = path.isEmpty() ? e.name() : path + "/" + e.name();
                if (rules.ignored(child, e.folder())) {
                    ignored[0]++;
                } else if (e.folder()) {
                    walk(repo, e.id(), child, rules, wanted, files, ignored);
                } else if (wanted.test(child)) {
                    files.add(new SourceFile(child, repo.open(e.id()).getBytes()));
                }
            }
        }
    }
}
