// SPDX-License-Identifier: MIT
// test-saved.c: the saved values of scenarios (kopilka-saved.h): looking paths up in an answer
// and replacing ${name} in a later step, as tables of inputs with the exact result or message.
#include "kopilka-saved.h"

#include <stdio.h>
#include <string.h>

static int n_test, n_failed;

static void check(bool ok, const char *name, const char *detail)
{
    n_test++;
    printf("%s %d - %s\n", ok ? "ok" : "not ok", n_test, name);
    if (!ok) {
        n_failed++;
        printf("# %s\n", detail);
    }
}

static const char answer[] =
    "{\"batch\":\"till\",\"cards\":[\"2000000000008\",\"2000000000015\"],"
    "\"entries\":[{\"id\":7,\"payload\":{\"code\":\"BDAY-7KQ2M9XP\",\"points\":0}}],"
    "\"ok\":true,\"nothing\":null}";

typedef struct lookup_case {
    const char *path;
    const char *value; // compact JSON of the value, or NULL when it must fail
    const char *why;   // the exact message when it fails
} lookup_case;

static const lookup_case lookups[] = {
    {"cards[0]", "\"2000000000008\"", NULL},
    {"cards[-1]", "\"2000000000015\"", NULL},
    {"entries[0].payload.code", "\"BDAY-7KQ2M9XP\"", NULL},
    {"entries[0].id", "7", NULL},
    {"entries[0].payload", "{\"code\":\"BDAY-7KQ2M9XP\",\"points\":0}", NULL},
    {"ok", "true", NULL},
    {"cards[2]", NULL, "cards: the array has 2 elements, so there is no [2]\n"},
    {"cards[-3]", NULL, "cards: the array has 2 elements, so there is no [-3]\n"},
    {"entries[0].payload.cod", NULL,
     "entries[0].payload.cod: the answer has no entries[0].payload.cod\n"},
    {"batch[0]", NULL, "batch: not an array, so it has no [0]\n"},
    {"cards[x]", NULL, "cards[x]: an index is written [N] or [-N]\n"},
    {"cards.", NULL, "cards.: a '.' stands between two keys\n"},
    {"", NULL, "an empty path: write a key such as \"cards[0]\"\n"},
    {"a b", NULL, "a b: keys are letters, digits, '_' and '-', joined by '.'\n"},
};

typedef struct expand_case {
    const char *name;
    const char *in;   // a step (JSON)
    const char *out;  // the expanded step, or NULL when it must fail
    const char *why;  // the exact message when it fails
} expand_case;

// Saved: card (a string), id (a number), code (a string), entry (an object).
static const char saved_json[] =
    "{\"card\":\"2000000000008\",\"id\":7,\"code\":\"BDAY-7KQ2M9XP\",\"entry\":{\"id\":7}}";

static const expand_case expands[] = {
    {"a whole string keeps the type", "{\"ack\":[\"${id}\"],\"c\":{\"card\":\"${card}\"}}",
     "{\"ack\":[7],\"c\":{\"card\":\"2000000000008\"}}", NULL},
    {"inside text", "{\"m\":\"code ${code}, entry ${id}.\"}",
     "{\"m\":\"code BDAY-7KQ2M9XP, entry 7.\"}", NULL},
    {"an object as a whole string", "{\"e\":\"${entry}\"}", "{\"e\":{\"id\":7}}", NULL},
    {"no references: as is", "{\"n\":1,\"s\":\"$ {x} $x\",\"b\":[true,null]}",
     "{\"n\":1,\"s\":\"$ {x} $x\",\"b\":[true,null]}", NULL},
    {"an unknown name", "{\"confirm\":{\"codes\":[\"x\",\"${cod}\"]}}", NULL,
     "steps[3].confirm.codes[1]: no saved value \"cod\" (a step's \"save\" names it first; "
     "saved so far: card, id, code, entry)\n"},
    {"unterminated", "{\"note\":\"see ${card\"}", NULL,
     "steps[3].note: \"${\" without a closing \"}\"\n"},
    {"an object inside text", "{\"note\":\"entry ${entry}\"}", NULL,
     "steps[3].note: saved value \"entry\" is not a string or number, so it can only stand "
     "alone as \"${entry}\"\n"},
};

int main(void)
{
    json_t *root = json_loads(answer, 0, NULL);
    for (size_t i = 0; i < sizeof lookups / sizeof *lookups; i++) {
        const lookup_case *c = &lookups[i];
        kr_buf why;
        kr_buf_init(&why, 0);
        const json_t *v = kp_saved_lookup(root, c->path, &why);
        char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        char name[120], detail[600];
        snprintf(name, sizeof name, "lookup %s", c->path);
        snprintf(detail, sizeof detail, "got %s / %s", got ? got : "(none)",
                 why.data ? why.data : "");
        bool ok = c->value ? got && strcmp(got, c->value) == 0
                           : !v && why.data && strcmp(why.data, c->why) == 0;
        if (!c->value)
            ok = ok && !kp_saved_path_ok(c->path, &why) == (strstr(c->why, "has") == NULL &&
                                                           strstr(c->why, "not an array") == NULL);
        check(ok, name, detail);
        free(got);
        kr_buf_free(&why);
    }
    json_decref(root);

    json_t *saved = json_loads(saved_json, 0, NULL);
    for (size_t i = 0; i < sizeof expands / sizeof *expands; i++) {
        const expand_case *c = &expands[i];
        json_t *in = json_loads(c->in, 0, NULL);
        kr_buf why;
        kr_buf_init(&why, 0);
        json_t *got = kp_saved_expand(saved, in, "steps[3]", &why);
        char *text = got ? json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        char detail[600];
        snprintf(detail, sizeof detail, "got %s / %s", text ? text : "(none)",
                 why.data ? why.data : "");
        bool ok = c->out ? text && strcmp(text, c->out) == 0
                         : !got && why.data && strcmp(why.data, c->why) == 0;
        check(ok, c->name, detail);
        free(text);
        json_decref(got);
        json_decref(in);
        kr_buf_free(&why);
    }
    json_decref(saved);

    check(kp_saved_name_ok("card_1-x") && !kp_saved_name_ok("") && !kp_saved_name_ok("a.b") &&
              !kp_saved_name_ok("${x}"),
          "names", "letters, digits, _ and - only");
    printf("1..%d\n", n_test);
    return n_failed ? 1 : 0;
}
