package io.fedmarket.matching;

import java.util.Arrays;

/** A binary max-heap of (key, item) pairs in two primitive arrays: the lazy greedy's priority queue, no boxing. */
final class MaxHeap {
    private double[] keys;
    private int[] items;
    private int size;

    MaxHeap(int capacity) {
        keys = new double[Math.max(1, capacity)];
        items = new int[Math.max(1, capacity)];
    }

    /** Replaces the content with the given pairs in O(n). */
    void heapify(double[] k, int[] it, int n) {
        if (keys.length < n) {
            keys = new double[n];
            items = new int[n];
        }
        System.arraycopy(k, 0, keys, 0, n);
        System.arraycopy(it, 0, items, 0, n);
        size = n;
        for (int i = (n >>> 1) - 1; i >= 0; i--) {
            down(i);
        }
    }

    int size() {
        return size;
    }

    double topKey() {
        return keys[0];
    }

    int topItem() {
        return items[0];
    }

    void pop() {
        size--;
        if (size > 0) {
            keys[0] = keys[size];
            items[0] = items[size];
            down(0);
        }
    }

    void push(double key, int item) {
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            items = Arrays.copyOf(items, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] >= key) {
                break;
            }
            keys[i] = keys[parent];
            items[i] = items[parent];
            i = parent;
        }
        keys[i] = key;
        items[i] = item;
    }

    private void down(int i) {
        double key = keys[i];
        int item = items[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && keys[right] > keys[child]) {
                child = right;
            }
            if (key >= keys[child]) {
                break;
            }
            keys[i] = keys[child];
            items[i] = items[child];
            i = child;
        }
        keys[i] = key;
        items[i] = item;
    }
}
