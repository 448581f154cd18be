import { useState, type FormEvent } from 'react';
import { api, type Category } from '../../api/client';
import { ConfirmDialog, Field, LoadError, Loading, useTitle } from '../../components/ui';
import { plural } from '../../lib/format';
import { useApi } from '../../lib/use-api';
import { useAction } from './admin-ui';

export function AdminCategoriesPage() {
  useTitle('Categories · Admin');
  const list = useApi(() => api.GET('/categories/', { params: { query: { page_size: 100 } } }), 'admin-categories');
  const action = useAction();
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Category | null>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    const body = { name: name.trim(), slug: slug.trim() || undefined };
    if (await action.run(() => api.POST('/categories/', { body }), `Category “${body.name}” created.`)) {
      setName('');
      setSlug('');
      list.reload(true);
    }
  };
  const remove = async (category: Category) => {
    setDeleting(null);
    const done = `Category “${category.name}” deleted. Its events stay, now without a category.`;
    if (await action.run(() => api.DELETE('/categories/{id}/', { params: { path: { id: category.id } } }), done)) list.reload(true);
  };

  return (
    <>
      <h1>Categories</h1>
      <form onSubmit={create} aria-labelledby="new-category" className="panel" noValidate>
        <h2 id="new-category">New category</h2>
        <Field label="Name" name="name" value={name} onChange={(e) => setName(e.target.value)} required />
        <Field label="Slug" name="slug" value={slug} onChange={(e) => setSlug(e.target.value)} hint="Optional: made from the name when left empty." />
        <button type="submit" className="primary" disabled={action.busy}>
          Create category
        </button>
      </form>
      {action.shown}
      {list.loading && !list.data ? (
        <Loading what="Loading categories" />
      ) : list.error ? (
        <LoadError message={list.error} retry={() => list.reload()} />
      ) : list.data ? (
        <section aria-labelledby="all-categories">
          <h2 id="all-categories">All categories</h2>
          <p className="count">{plural(list.data.count, 'category', 'categories')}</p>
          <ul className="admin-list">
            {list.data.results.map((c) =>
              editing === c.id ? (
                <li key={c.id}>
                  <EditCategory
                    category={c}
                    busy={action.busy}
                    onCancel={() => setEditing(null)}
                    onSave={async (body) => {
                      const ok = await action.run(() => api.PATCH('/categories/{id}/', { params: { path: { id: c.id } }, body }), `Category “${body.name}” saved.`);
                      if (ok) {
                        setEditing(null);
                        list.reload(true);
                      }
                    }}
                  />
                </li>
              ) : (
                <li key={c.id}>
                  <strong>{c.name}</strong> <code>{c.slug}</code>
                  <span className="actions">
                    <button type="button" onClick={() => setEditing(c.id)} aria-label={`Edit ${c.name}`}>
                      Edit
                    </button>
                    <button type="button" className="danger" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>
                      Delete
                    </button>
                  </span>
                </li>
              ),
            )}
          </ul>
        </section>
      ) : null}
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete “${deleting?.name ?? ''}”?`}
        confirmLabel="Delete category"
        onConfirm={() => deleting && void remove(deleting)}
        onCancel={() => setDeleting(null)}
        busy={action.busy}
      >
        <p>Events in this category stay; they will have no category.</p>
      </ConfirmDialog>
    </>
  );
}

function EditCategory({
  category,
  busy,
  onSave,
  onCancel,
}: {
  category: Category;
  busy: boolean;
  onSave: (body: { name: string; slug: string }) => Promise<void>;
  onCancel: () => void;
}) {
  const [name, setName] = useState(category.name);
  const [slug, setSlug] = useState(category.slug);
  return (
    <form
      aria-label={`Edit ${category.name}`}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void onSave({ name: name.trim(), slug: slug.trim() });
      }}
    >
      <Field label="Name" name="name" value={name} onChange={(e) => setName(e.target.value)} />
      <Field label="Slug" name="slug" value={slug} onChange={(e) => setSlug(e.target.value)} />
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
