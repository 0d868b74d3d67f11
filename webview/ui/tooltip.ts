// The hover tooltip: a few lines next to the pointer, kept inside the scene box.
import { element } from '../dom';

export class Tooltip {
  private readonly box: HTMLElement;

  constructor(private readonly sceneBox: HTMLElement) {
    this.box = sceneBox.appendChild(element('div', { class: 'tooltip', hidden: '' }));
  }

  show(lines: string[], clientX: number, clientY: number): void {
    this.box.replaceChildren(...lines.map((line) => element('div', {}, line)));
    this.box.hidden = false;
    const rect = this.sceneBox.getBoundingClientRect();
    this.box.style.left = `${Math.min(clientX - rect.left + 14, rect.width - 260)}px`;
    this.box.style.top = `${Math.min(clientY - rect.top + 14, rect.height - 120)}px`;
  }

  hide(): void {
    this.box.hidden = true;
  }
}
