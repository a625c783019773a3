/* The floor for `hone validate`: read every file it would read, without parsing.
 *   floor tree DIR   — every blob of HEAD's tree, through libgit2 (what `--ref HEAD` reads)
 *   floor fs DIR     — every file under hone.yaml and the layout folders, with read(2) (the working tree)
 * With a third argument `yaml`, every file is also run through libyaml's event parser (no tree, no
 * checks), on one thread: what libyaml alone costs on top of reading, for comparison.
 * Prints the number of files and bytes read. */
#include <git2.h>
#include <yaml.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t files, bytes, events;
static unsigned long checksum;
static int with_yaml;

static void consume(const unsigned char *p, size_t n) {
    files++; bytes += n;
    for (size_t i = 0; i < n; i += 64) checksum += p[i];
    if (!with_yaml) return;
    yaml_parser_t parser;
    yaml_event_t event;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, p, n);
    for (;;) {
        if (!yaml_parser_parse(&parser, &event)) break;
        events++;
        int done = event.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&event);
        if (done) break;
    }
    yaml_parser_delete(&parser);
}

static int tree_cb(const char *root, const git_tree_entry *entry, void *payload) {
    git_repository *repo = payload;
    (void)root;
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
    git_blob *blob;
    if (git_blob_lookup(&blob, repo, git_tree_entry_id(entry)) != 0) return -1;
    consume(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob));
    git_blob_free(blob);
    return 0;
}

static void walk_fs(const char *path) {
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    static unsigned char buf[1 << 16];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char child[4096];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        struct stat st;
        if (stat(child, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) { walk_fs(child); continue; }
        int fd = open(child, O_RDONLY);
        if (fd < 0) continue;
        ssize_t n; size_t total = 0;
        while ((n = read(fd, buf, sizeof buf)) > 0) total += (size_t)n;
        close(fd);
        consume(buf, total < sizeof buf ? total : sizeof buf);
        bytes += total - (total < sizeof buf ? total : sizeof buf);
    }
    closedir(d);
}

int main(int argc, char **argv) {
    if (argc != 3 && !(argc == 4 && strcmp(argv[3], "yaml") == 0)) { fprintf(stderr, "usage: floor tree|fs DIR [yaml]\n"); return 2; }
    with_yaml = argc == 4;
    if (strcmp(argv[1], "tree") == 0) {
        git_libgit2_init();
        git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
        /* As hone reads: no re-hashing of every object (see Sources/Git/GitError.swift). */
        git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 0);
        git_repository *repo; git_object *obj; git_tree *tree;
        if (git_repository_open(&repo, argv[2]) != 0 || git_revparse_single(&obj, repo, "HEAD^{tree}") != 0) {
            fprintf(stderr, "floor: %s\n", git_error_last() ? git_error_last()->message : "error"); return 1;
        }
        tree = (git_tree *)obj;
        if (git_tree_walk(tree, GIT_TREEWALK_PRE, tree_cb, repo) != 0) { fprintf(stderr, "floor: walk failed\n"); return 1; }
    } else {
        const char *tops[] = {"models", "datasets", "runtimes", "groups", "evaluations", "status"};
        char p[4096];
        snprintf(p, sizeof p, "%s/hone.yaml", argv[2]);
        int fd = open(p, O_RDONLY);
        if (fd >= 0) { static unsigned char b[65536]; ssize_t n = read(fd, b, sizeof b); close(fd); consume(b, n > 0 ? (size_t)n : 0); }
        for (int i = 0; i < 6; i++) { snprintf(p, sizeof p, "%s/%s", argv[2], tops[i]); walk_fs(p); }
    }
    printf("%zu files, %zu bytes (checksum %lu)\n", files, bytes, checksum);
    if (with_yaml) printf("%zu YAML events\n", events);
    return 0;
}
