import { type ReactNode, useId } from 'react';

/** The text every story's editor starts with, so plays can tell whether it changed. */
export const EDITOR_TEXT = 'Opening hours: Monday to Friday, 9:00 to 17:00.';

/**
 * A small page editor standing in for the application's: a title and a body, uncontrolled, so
 * that whatever is typed stays only as long as the editor is not remounted.
 */
export function PageEditor(props: { title?: string; label?: string }): ReactNode {
  const id = useId();
  return (
    <form
      className="story-editor"
      aria-label={props.label ?? 'Page editor'}
      onSubmit={(event) => event.preventDefault()}
    >
      <label htmlFor={`${id}-title`}>Title</label>
      <input id={`${id}-title`} name="title" defaultValue={props.title ?? 'Contact'} />
      <label htmlFor={`${id}-body`}>Body</label>
      <textarea id={`${id}-body`} name="body" rows={5} defaultValue={EDITOR_TEXT} />
      <button type="submit">Save</button>
    </form>
  );
}
