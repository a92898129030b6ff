/** The secrets registered so far, replaced by `***` in text a shell prints (before the text is escaped for its medium). */
export class SecretMask {
  private readonly secrets = new Set<string>();

  readonly add = (secret: string): void => {
    if (secret) this.secrets.add(secret);
  };

  mask(text: string): string {
    return [...this.secrets].reduce((t, s) => t.split(s).join('***'), text);
  }
}
