/* ptgone.c — a library the `gone` test plugin links to; the loader test moves it away to
 * check the "missing library dependency" refusal. */
int ptgone_answer(void);

__attribute__((visibility("default"))) int ptgone_answer(void)
{
    return 42;
}
